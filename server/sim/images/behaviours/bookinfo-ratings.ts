/** Bookinfo ratings v1 (Node.js): fixed ratings from memory, as ratings.js answers without a database. */
import { pathOnly, respond } from '../http.js';
import type { ImageBehaviourEntry } from '../types.js';
import type { ContainerBehaviour } from '../types.js';
import { bookinfoImage } from './bookinfo-common.js';
import { DEBIAN_OS_RELEASE } from './os.js';

export function ratingsBehaviour(): ContainerBehaviour {
  return {
    ports: [9080],
    readyAfterMs: 300,
    files: { '/etc/os-release': DEBIAN_OS_RELEASE, '/opt/microservices/ratings.js': '// ratings service (simulated)\n' },
    // src/ratings/Dockerfile: WORKDIR /opt/microservices, ENV SERVICE_VERSION. Non-root like details (USER 1000) is assumed.
    user: '1000',
    workingDir: '/opt/microservices',
    env: { SERVICE_VERSION: 'v1' },
    unsupportedPrograms: ['node', 'npm'],
    start(ctx) {
      ctx.log('Server listening on: http://0.0.0.0:9080');
    },
    async serve(req, ctx) {
      const path = pathOnly(req.path);
      const json = { 'content-type': 'application/json', connection: 'keep-alive', 'keep-alive': 'timeout=5' };
      if (req.method === 'GET' && path === '/health') return respond(ctx, 200, JSON.stringify({ status: 'Ratings is healthy' }), json);
      if (req.method === 'GET' && /^\/ratings\/[0-9]*/.test(path)) {
        // ratings.js: parseInt of the last path segment; NaN → 400.
        const id = Number.parseInt(path.split('/').pop() ?? '', 10);
        if (Number.isNaN(id)) return respond(ctx, 400, JSON.stringify({ error: 'please provide numeric product ID' }), json);
        return respond(ctx, 200, JSON.stringify({ id, ratings: { Reviewer1: 5, Reviewer2: 4 } }), json);
      }
      return respond(ctx, 404, JSON.stringify({ error: 'Not found' }), json);
    },
  };
}

export const bookinfoRatings: ImageBehaviourEntry = {
  name: 'bookinfo-ratings',
  matches: (img) => bookinfoImage(img)?.service === 'ratings' && bookinfoImage(img)?.version === 1,
  create: () => ratingsBehaviour(),
};
