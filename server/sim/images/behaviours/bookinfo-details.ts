/** Bookinfo details v1 (Ruby WEBrick): the book's details as JSON, WEBrick's access log. */
import { clfTime, pathOnly, respond } from '../http.js';
import type { ImageBehaviourEntry } from '../types.js';
import type { ContainerBehaviour } from '../types.js';
import { bookinfoImage } from './bookinfo-common.js';
import { DEBIAN_OS_RELEASE } from './os.js';

const SERVER = 'WEBrick/1.8.1 (Ruby/3.3.6/2024-11-05)';
const pad = (n: number) => String(n).padStart(2, '0');
const webrickTime = (d: Date) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;

/** The book, in the key order details.rb builds its Hash (Ruby's to_json keeps it). */
export function bookDetails(id: number) {
  return {
    id,
    author: 'William Shakespeare',
    year: 1595,
    type: 'paperback',
    pages: 200,
    publisher: 'PublisherA',
    language: 'English',
    'ISBN-10': '1234567890',
    'ISBN-13': '123-1234567890',
  };
}

function notFoundPage(path: string, host: string): string {
  return `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.0//EN">\n<HTML>\n  <HEAD><TITLE>Not Found</TITLE></HEAD>\n  <BODY>\n    <H1>Not Found</H1>\n    \`${path}' not found.\n    <HR>\n    <ADDRESS>\n     ${SERVER} at\n     ${host}\n    </ADDRESS>\n  </BODY>\n</HTML>\n`;
}

export function detailsBehaviour(): ContainerBehaviour {
  return {
    ports: [9080],
    readyAfterMs: 500,
    files: { '/etc/os-release': DEBIAN_OS_RELEASE, '/opt/microservices/details.rb': '# details service (simulated)\n' },
    // src/details/Dockerfile: WORKDIR /opt/microservices, USER 1000, ENV SERVICE_VERSION / ENABLE_EXTERNAL_BOOK_SERVICE.
    user: '1000',
    workingDir: '/opt/microservices',
    env: { SERVICE_VERSION: 'v1', ENABLE_EXTERNAL_BOOK_SERVICE: 'false' },
    unsupportedPrograms: ['ruby', 'gem', 'bundle'],
    start(ctx) {
      const t = webrickTime(ctx.now());
      ctx.log(`[${t}] INFO  WEBrick 1.8.1`);
      ctx.log(`[${t}] INFO  ruby 3.3.6 (2024-11-05 revision 75015d4c1f) [x86_64-linux]`);
      ctx.log(`[${t}] INFO  WEBrick::HTTPServer#start: pid=1 port=9080`);
    },
    async serve(req, ctx, conn) {
      const path = pathOnly(req.path);
      const json = { 'content-type': 'application/json', server: SERVER, connection: 'Keep-Alive' };
      let res;
      if (path === '/health') res = respond(ctx, 200, JSON.stringify({ status: 'Details is healthy' }), json);
      else if (path === '/details' || path.startsWith('/details/')) {
        // details.rb: Integer(path.split('/')[-1]) or 400 with the error message.
        const last = path.split('/').filter(Boolean).pop() ?? '';
        const id = /^[-+]?\d+$/.test(last) ? Number(last) : NaN;
        res = Number.isNaN(id)
          ? respond(ctx, 400, JSON.stringify({ error: 'please provide numeric product id' }), json)
          : respond(ctx, 200, JSON.stringify(bookDetails(id)), json);
      } else {
        res = respond(ctx, 404, notFoundPage(path, req.headers['host'] ?? `${ctx.hostname}:9080`), { 'content-type': 'text/html; charset=ISO-8859-1', server: SERVER, connection: 'Keep-Alive' });
      }
      ctx.log(`${conn.remoteAddress} - - [${clfTime(ctx.now()).replace(' +0000', ' UTC')}] "${req.method} ${req.path} HTTP/1.1" ${res.status} ${res.body.length}`);
      ctx.log(`${req.headers['referer'] ?? '-'} -> ${req.path}`);
      return res;
    },
  };
}

export const bookinfoDetails: ImageBehaviourEntry = {
  name: 'bookinfo-details',
  matches: (img) => bookinfoImage(img)?.service === 'details' && bookinfoImage(img)?.version === 1,
  create: () => detailsBehaviour(),
};
