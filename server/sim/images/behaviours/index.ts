/** Known images, in match order. Adding an image: a file exporting an ImageBehaviourEntry, listed here. */
import type { ImageBehaviourEntry } from '../types.js';
import { bookinfoDetails } from './bookinfo-details.js';
import { bookinfoProductpage } from './bookinfo-productpage.js';
import { bookinfoRatings } from './bookinfo-ratings.js';
import { bookinfoReviews } from './bookinfo-reviews.js';
import { fortioImage } from './fortio.js';
import { httpEcho } from './http-echo.js';
import { httpd } from './httpd.js';
import { goHttpbin } from './go-httpbin.js';
import { pythonHttpbin } from './httpbin.js';
import { alpine, busybox, curlImage, debian, ubuntu } from './idle.js';
import { nginx } from './nginx.js';
import { coredns, kubernetesComponents } from './kubernetes.js';

export const builtinImageBehaviours: readonly ImageBehaviourEntry[] = [
  bookinfoProductpage,
  bookinfoDetails,
  bookinfoReviews,
  bookinfoRatings,
  nginx,
  httpd,
  httpEcho,
  fortioImage,
  goHttpbin,
  pythonHttpbin,
  curlImage,
  busybox,
  alpine,
  ubuntu,
  debian,
  kubernetesComponents,
  coredns,
];
