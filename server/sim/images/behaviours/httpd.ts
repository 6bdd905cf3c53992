/** Apache httpd: "It works!" from /usr/local/apache2/htdocs, Apache's error pages and common log. */
import { clfTime, respond } from '../http.js';
import type { ImageBehaviourEntry } from '../types.js';
import type { ContainerBehaviour } from '../types.js';
import { DEBIAN_OS_RELEASE } from './os.js';
import { contentTypeOf, readWebFile, versionFromTag } from './web-server.js';

const NOT_FOUND =
  '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>404 Not Found</title>\n</head><body>\n<h1>Not Found</h1>\n<p>The requested URL was not found on this server.</p>\n</body></html>\n';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const errorLogTime = (d: Date) =>
  `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds() * 1000, 6)} ${d.getUTCFullYear()}`;

export function httpdBehaviour(version: string): ContainerBehaviour {
  const root = '/usr/local/apache2/htdocs';
  return {
    ports: [80],
    readyAfterMs: 100,
    unsupportedPrograms: ['httpd', 'apachectl'],
    files: { '/etc/os-release': DEBIAN_OS_RELEASE, [`${root}/index.html`]: '<html><body><h1>It works!</h1></body></html>\n' },
    start(ctx) {
      const note = `AH00558: httpd: Could not reliably determine the server's fully qualified domain name, using ${ctx.podIP}. Set the 'ServerName' directive globally to suppress this message`;
      ctx.log(note);
      ctx.log(note);
      const t = errorLogTime(ctx.now());
      ctx.log(`[${t}] [mpm_event:notice] [pid 1:tid 1] AH00489: Apache/${version} (Unix) configured -- resuming normal operations`);
      ctx.log(`[${t}] [core:notice] [pid 1:tid 1] AH00094: Command line: 'httpd -D FOREGROUND'`);
    },
    async serve(req, ctx, conn) {
      const server = { server: `Apache/${version} (Unix)` };
      const file = req.method === 'GET' || req.method === 'HEAD' ? await readWebFile(ctx, root, req.path) : null;
      let res = file
        ? respond(ctx, 200, file, { ...server, 'last-modified': new Date(0).toUTCString(), 'accept-ranges': 'bytes', 'content-type': contentTypeOf(req.path.endsWith('/') ? 'index.html' : req.path) })
        : respond(ctx, 404, NOT_FOUND, { ...server, 'content-type': 'text/html; charset=iso-8859-1' });
      if (req.method === 'HEAD') res = { ...res, body: Buffer.alloc(0) };
      ctx.log(`${conn.remoteAddress} - - [${clfTime(ctx.now())}] "${req.method} ${req.path} HTTP/1.1" ${res.status} ${req.method === 'HEAD' ? '-' : res.headers['content-length']}`);
      return res;
    },
  };
}

export const httpd: ImageBehaviourEntry = {
  name: 'httpd',
  matches: (img) => img.repository === 'library/httpd',
  create: (img) => httpdBehaviour(versionFromTag(img.tag, '2.4.62')),
};
