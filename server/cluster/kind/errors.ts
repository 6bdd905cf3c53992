/** What went wrong with kind or Docker, in a sentence an instructor can act on. */
export class KindError extends Error {
  constructor(message: string, readonly reason: 'no-kind' | 'no-docker' | 'docker-down' | 'docker-permission' | 'port-taken' | 'timeout' | 'kind-failed') {
    super(message);
    this.name = 'KindError';
  }
}

export const INSTALL_KIND_HINT = 'install it with `bash scripts/install-tools.sh --with kind` or from https://kind.sigs.k8s.io/docs/user/quick-start/#installation';

/** Classifies kind's own error output (it runs the docker CLI and quotes its failures). */
export function explainKindFailure(action: string, output: string): KindError {
  const said = output.trim().split('\n').filter(Boolean).slice(-6).join('\n');
  if (/Cannot connect to the Docker daemon|Is the docker daemon running|docker\.sock: connect: no such file/i.test(output)) {
    return new KindError(`Docker is not running: kind could not ${action} because the Docker daemon does not answer. Start Docker (or, in docker-compose, mount /var/run/docker.sock) and try again.\nkind said:\n${said}`, 'docker-down');
  }
  if (/permission denied.*docker\.sock|docker\.sock.*permission denied/i.test(output)) {
    return new KindError(`No permission to use Docker: kind could not ${action}. Add this server's user to the docker group (or give the container the socket's group).\nkind said:\n${said}`, 'docker-permission');
  }
  if (/"docker": executable file not found|docker: not found|exec: "docker"/i.test(output)) {
    return new KindError(`Docker is not installed: kind needs the docker command line and a running Docker engine to ${action}.\nkind said:\n${said}`, 'no-docker');
  }
  if (/port is already allocated|address already in use/i.test(output)) {
    return new KindError(`A host port kind maps is taken: kind could not ${action}. Free it or choose other ports with --kind-host-port.\nkind said:\n${said}`, 'port-taken');
  }
  return new KindError(`kind could not ${action}.\nkind said:\n${said || '(nothing)'}`, 'kind-failed');
}
