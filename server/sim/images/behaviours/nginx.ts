/** nginx: the default welcome page from /usr/share/nginx/html, nginx's error pages and access log. */
import { clfTime, respond } from '../http.js';
import type { ImageBehaviourEntry } from '../types.js';
import type { ContainerBehaviour } from '../types.js';
import { ALPINE_OS_RELEASE, DEBIAN_OS_RELEASE } from './os.js';
import { contentTypeOf, readWebFile, versionFromTag } from './web-server.js';

const WELCOME = `<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
`;

const errorPage = (status: string, version: string) =>
  `<html>\r\n<head><title>${status}</title></head>\r\n<body>\r\n<center><h1>${status}</h1></center>\r\n<hr><center>nginx/${version}</center>\r\n</body>\r\n</html>\r\n`;

const pad = (n: number) => String(n).padStart(2, '0');
const errorLogTime = (d: Date) => `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;

export function nginxBehaviour(version: string, alpine: boolean): ContainerBehaviour {
  const root = '/usr/share/nginx/html';
  return {
    ports: [80],
    readyAfterMs: 100,
    userland: alpine ? 'busybox' : 'debian',
    unsupportedPrograms: ['nginx'],
    files: {
      '/etc/os-release': alpine ? ALPINE_OS_RELEASE : DEBIAN_OS_RELEASE,
      [`${root}/index.html`]: WELCOME,
      [`${root}/50x.html`]: '<!DOCTYPE html>\n<html>\n<head>\n<title>Error</title>\n</head>\n<body>\n<h1>An error occurred.</h1>\n</body>\n</html>\n',
    },
    start(ctx) {
      const t = errorLogTime(ctx.now());
      for (const line of [
        '/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration',
        '/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/',
        '/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh',
        '10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf',
        '10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf',
        '/docker-entrypoint.sh: Sourcing /docker-entrypoint.d/15-local-resolvers.envsh',
        '/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh',
        '/docker-entrypoint.sh: Launching /docker-entrypoint.d/30-tune-worker-processes.sh',
        '/docker-entrypoint.sh: Configuration complete; ready for start up',
        `${t} [notice] 1#1: using the "epoll" event method`,
        `${t} [notice] 1#1: nginx/${version}`,
        `${t} [notice] 1#1: OS: Linux 6.8.0-sim`,
        `${t} [notice] 1#1: getrlimit(RLIMIT_NOFILE): 1048576:1048576`,
        `${t} [notice] 1#1: start worker processes`,
        `${t} [notice] 1#1: start worker process 29`,
      ]) ctx.log(line);
    },
    async serve(req, ctx, conn) {
      const server = { server: `nginx/${version}`, connection: 'keep-alive' };
      let res;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res = respond(ctx, 405, errorPage('405 Not Allowed', version), { ...server, 'content-type': 'text/html' });
      } else {
        const file = await readWebFile(ctx, root, req.path);
        res = file
          ? respond(ctx, 200, file, { ...server, 'content-type': contentTypeOf(req.path.endsWith('/') ? 'index.html' : req.path), 'last-modified': new Date(0).toUTCString(), 'accept-ranges': 'bytes' })
          : respond(ctx, 404, errorPage('404 Not Found', version), { ...server, 'content-type': 'text/html' });
        if (req.method === 'HEAD') res = { ...res, body: Buffer.alloc(0) };
      }
      const sent = Number(res.headers['content-length'] ?? 0);
      ctx.log(`${conn.remoteAddress} - - [${clfTime(ctx.now())}] "${req.method} ${req.path} HTTP/1.1" ${res.status} ${req.method === 'HEAD' ? 0 : sent} "${req.headers['referer'] ?? '-'}" "${req.headers['user-agent'] ?? '-'}" "${req.headers['x-forwarded-for'] ?? '-'}"`);
      return res;
    },
  };
}

export const nginx: ImageBehaviourEntry = {
  name: 'nginx',
  matches: (img) => img.repository === 'library/nginx' || img.repository === 'nginxinc/nginx-unprivileged' || img.name === 'nginx',
  create: (img) => nginxBehaviour(versionFromTag(img.tag, '1.27.3'), img.tag.includes('alpine')),
};
