/**
 * The release's samples/bookinfo files, written by this project from Bookinfo's published shape
 * (services, accounts, deployments, images 1.20.3; the networking task files). Each file creates
 * the same objects as Istio 1.30.3's file of that name (test/integration/istio-release.test.ts
 * diffs them against the reference copies).
 */
import YAML from 'yaml';

const BOOKINFO_TAG = '1.20.3';
const LICENSE_HEADER = `# Copyright Istio Authors
#
#   Licensed under the Apache License, Version 2.0 (the "License");
#   you may not use this file except in compliance with the License.
#   You may obtain a copy of the License at
#
#       http://www.apache.org/licenses/LICENSE-2.0
#
#   Unless required by applicable law or agreed to in writing, software
#   distributed under the License is distributed on an "AS IS" BASIS,
#   WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
#   See the License for the specific language governing permissions and
#   limitations under the License.
`;

type Obj = Record<string, unknown>;

const docs = (objects: Obj[]) => objects.map((o) => YAML.stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');

function service(app: string): Obj {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: app, labels: { app, service: app } }, spec: { ports: [{ port: 9080, name: 'http' }], selector: { app } } };
}

function account(app: string): Obj {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: `bookinfo-${app}`, labels: { account: app } } };
}

function deployment(app: string, version: string, extra: { env?: Obj[]; mounts?: Obj[]; volumes?: Obj[]; annotations?: Record<string, string> } = {}): Obj {
  const labels = { app, version };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `${app}-${version}`, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { ...(extra.annotations ? { annotations: extra.annotations } : {}), labels },
        spec: {
          serviceAccountName: `bookinfo-${app}`,
          containers: [
            {
              name: app,
              image: `registry.istio.io/release/examples-bookinfo-${app}-${version}:${BOOKINFO_TAG}`,
              imagePullPolicy: 'IfNotPresent',
              ...(extra.env ? { env: extra.env } : {}),
              ports: [{ containerPort: 9080 }],
              ...(extra.mounts ? { volumeMounts: extra.mounts } : {}),
            },
          ],
          ...(extra.volumes ? { volumes: extra.volumes } : {}),
        },
      },
    },
  };
}

function bookinfo(): string {
  const reviews = (v: string) =>
    deployment('reviews', v, {
      env: [{ name: 'LOG_DIR', value: '/tmp/logs' }],
      mounts: [{ name: 'tmp', mountPath: '/tmp' }, { name: 'wlp-output', mountPath: '/opt/ibm/wlp/output' }],
      volumes: [{ name: 'wlp-output', emptyDir: {} }, { name: 'tmp', emptyDir: {} }],
    });
  return `${LICENSE_HEADER}
##################################################################################################
# This file defines the services, service accounts, and deployments for the Bookinfo sample.
#
# To apply all 4 Bookinfo services, their corresponding service accounts, and deployments:
#
#   kubectl apply -f samples/bookinfo/platform/kube/bookinfo.yaml
##################################################################################################
${docs([
  service('details'), account('details'), deployment('details', 'v1'),
  service('ratings'), account('ratings'), deployment('ratings', 'v1'),
  service('reviews'), account('reviews'), reviews('v1'), reviews('v2'), reviews('v3'),
  service('productpage'), account('productpage'),
  deployment('productpage', 'v1', {
    annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9080', 'prometheus.io/path': '/metrics' },
    mounts: [{ name: 'tmp', mountPath: '/tmp' }],
    volumes: [{ name: 'tmp', emptyDir: {} }],
  }),
])}---
`;
}

function bookinfoVersions(): string {
  const svc = (app: string, version: string): Obj => ({
    apiVersion: 'v1', kind: 'Service', metadata: { name: `${app}-${version}` },
    spec: { ports: [{ port: 9080, name: 'http' }], selector: { app, version } },
  });
  return `${docs([svc('reviews', 'v1'), svc('reviews', 'v2'), svc('reviews', 'v3'), svc('productpage', 'v1'), svc('ratings', 'v1'), svc('details', 'v1')])}---\n`;
}

const NET = 'networking.istio.io/v1';

function subsets(names: string[]): Obj[] {
  return names.map((name) => ({ name, labels: { version: name } }));
}

function destinationRules(trafficPolicy?: Obj): string {
  const dr = (host: string, names: string[]): Obj => ({
    apiVersion: NET, kind: 'DestinationRule', metadata: { name: host },
    spec: { host, ...(trafficPolicy ? { trafficPolicy } : {}), subsets: subsets(names) },
  });
  return `${docs([dr('productpage', ['v1']), dr('reviews', ['v1', 'v2', 'v3']), dr('ratings', ['v1', 'v2', 'v2-mysql', 'v2-mysql-vm']), dr('details', ['v1', 'v2'])])}---\n`;
}

const dest = (subset: string, weight?: number): Obj => ({ destination: { host: 'reviews', subset }, ...(weight !== undefined ? { weight } : {}) });

function reviewsVS(http: Obj[]): string {
  return docs([{ apiVersion: NET, kind: 'VirtualService', metadata: { name: 'reviews' }, spec: { hosts: ['reviews'], http } }]);
}

const jason = (then: string, otherwise: string) => [
  { match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [dest(then)] },
  { route: [dest(otherwise)] },
];

/** The fault-injection task's ratings rules: a fault for jason, then everyone to ratings v1. */
function ratingsFault(fault: Obj): string {
  const v1 = () => [{ destination: { host: 'ratings', subset: 'v1' } }];
  return docs([{ apiVersion: NET, kind: 'VirtualService', metadata: { name: 'ratings' }, spec: { hosts: ['ratings'], http: [{ match: [{ headers: { 'end-user': { exact: 'jason' } } }], fault, route: v1() }, { route: v1() }] } }]);
}

function gateway(): string {
  return docs([
    {
      apiVersion: NET, kind: 'Gateway', metadata: { name: 'bookinfo-gateway' },
      spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 8080, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }] },
    },
    {
      apiVersion: NET, kind: 'VirtualService', metadata: { name: 'bookinfo' },
      spec: {
        hosts: ['*'],
        gateways: ['bookinfo-gateway'],
        http: [
          {
            match: [{ uri: { exact: '/productpage' } }, { uri: { prefix: '/static' } }, { uri: { exact: '/login' } }, { uri: { exact: '/logout' } }, { uri: { prefix: '/api/v1/products' } }],
            route: [{ destination: { host: 'productpage', port: { number: 9080 } } }],
          },
        ],
      },
    },
  ]);
}

function gatewayApi(): string {
  return docs([
    {
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'bookinfo-gateway' },
      spec: { gatewayClassName: 'istio', listeners: [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Same' } } }] },
    },
    {
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'bookinfo' },
      spec: {
        parentRefs: [{ name: 'bookinfo-gateway' }],
        rules: [
          {
            matches: [
              { path: { type: 'Exact', value: '/productpage' } }, { path: { type: 'PathPrefix', value: '/static' } }, { path: { type: 'Exact', value: '/login' } },
              { path: { type: 'Exact', value: '/logout' } }, { path: { type: 'PathPrefix', value: '/api/v1/products' } },
            ],
            backendRefs: [{ name: 'productpage', port: 9080 }],
          },
        ],
      },
    },
  ]);
}

/** samples/bookinfo/gateway-api/route-*.yaml: mesh (GAMMA) routes, an HTTPRoute per Service with the Service as parent. */
function meshRoute(service: string, backends: [string, number?][]): Obj {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: service },
    spec: {
      parentRefs: [{ group: '', kind: 'Service', name: service, port: 9080 }],
      rules: [{ backendRefs: backends.map(([name, weight]) => ({ name, port: 9080, ...(weight !== undefined ? { weight } : {}) })) }],
    },
  };
}

function allV1(): string {
  const vs = (host: string): Obj => ({ apiVersion: NET, kind: 'VirtualService', metadata: { name: host }, spec: { hosts: [host], http: [{ route: [{ destination: { host, subset: 'v1' } }] }] } });
  return `${docs(['productpage', 'reviews', 'ratings', 'details'].map(vs))}---\n`;
}

/*
 * The traffic tasks' other samples (httpbin, curl, fortio), written from Istio 1.30's files as
 * published; no reference copy is kept for these, so they are not diffed in the tests.
 */
function httpbin(): string {
  return `${LICENSE_HEADER}
##################################################################################################
# httpbin service
##################################################################################################
${docs([
  { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'httpbin' } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'httpbin', labels: { app: 'httpbin', service: 'httpbin' } }, spec: { ports: [{ name: 'http', port: 8000, targetPort: 8080 }], selector: { app: 'httpbin' } } },
  {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'httpbin' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'httpbin', version: 'v1' } },
      template: {
        metadata: { labels: { app: 'httpbin', version: 'v1' } },
        spec: { serviceAccountName: 'httpbin', containers: [{ image: 'docker.io/mccutchen/go-httpbin:v2.15.0', imagePullPolicy: 'IfNotPresent', name: 'httpbin', ports: [{ containerPort: 8080 }] }] },
      },
    },
  },
])}`;
}

function curlSample(): string {
  return `${LICENSE_HEADER}
##################################################################################################
# curl service
##################################################################################################
${docs([
  { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'curl' } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'curl', labels: { app: 'curl', service: 'curl' } }, spec: { ports: [{ port: 80, name: 'http' }], selector: { app: 'curl' } } },
  {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'curl' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'curl' } },
      template: {
        metadata: { labels: { app: 'curl' } },
        spec: {
          terminationGracePeriodSeconds: 0,
          serviceAccountName: 'curl',
          containers: [
            { name: 'curl', image: 'curlimages/curl', command: ['/bin/sleep', 'infinity'], imagePullPolicy: 'IfNotPresent', volumeMounts: [{ mountPath: '/etc/curl/tls', name: 'secret-volume' }] },
          ],
          volumes: [{ name: 'secret-volume', secret: { secretName: 'curl-secret', optional: true } }],
        },
      },
    },
  },
])}---
`;
}

function fortio(): string {
  return docs([
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'fortio', labels: { app: 'fortio', service: 'fortio' } }, spec: { ports: [{ port: 8080, name: 'http' }], selector: { app: 'fortio' } } },
    {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'fortio-deploy' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'fortio' } },
        template: {
          metadata: {
            annotations: { 'proxy.istio.io/config': 'proxyStatsMatcher:\n  inclusionPrefixes:\n  - "cluster.outbound"\n  - "cluster_manager"\n  - "listener_manager"\n  - "server"\n  - "cluster.xds-grpc"' },
            labels: { app: 'fortio' },
          },
          spec: {
            containers: [
              { name: 'fortio', image: 'fortio/fortio:latest_release', imagePullPolicy: 'Always', ports: [{ containerPort: 8080, name: 'http-fortio' }, { containerPort: 8079, name: 'grpc-ping' }] },
            ],
          },
        },
      },
    },
  ]);
}

/** Release-relative path → file text. */
export function sampleFiles(): Record<string, string> {
  const net = 'samples/bookinfo/networking';
  return {
    'samples/bookinfo/platform/kube/bookinfo.yaml': bookinfo(),
    'samples/bookinfo/platform/kube/bookinfo-versions.yaml': bookinfoVersions(),
    'samples/bookinfo/gateway-api/bookinfo-gateway.yaml': gatewayApi(),
    'samples/bookinfo/gateway-api/route-all-v1.yaml': `${docs(['reviews', 'productpage', 'ratings', 'details'].map((s) => meshRoute(s, [[`${s}-v1`]])))}---\n`,
    'samples/bookinfo/gateway-api/route-reviews-50-v3.yaml': docs([meshRoute('reviews', [['reviews-v1', 50], ['reviews-v3', 50]])]),
    'samples/bookinfo/gateway-api/route-reviews-90-10.yaml': docs([meshRoute('reviews', [['reviews-v1', 90], ['reviews-v2', 10]])]),
    'samples/bookinfo/gateway-api/route-reviews-v1.yaml': docs([meshRoute('reviews', [['reviews-v1']])]),
    'samples/bookinfo/gateway-api/route-reviews-v3.yaml': docs([meshRoute('reviews', [['reviews-v3']])]),
    'samples/bookinfo/demo-profile-no-gateways.yaml': `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  profile: demo
  components:
    ingressGateways:
    - name: istio-ingressgateway
      enabled: false
    egressGateways:
    - name: istio-egressgateway
      enabled: false
`,
    'samples/httpbin/httpbin.yaml': httpbin(),
    'samples/httpbin/sample-client/fortio-deploy.yaml': fortio(),
    'samples/curl/curl.yaml': curlSample(),
    [`${net}/bookinfo-gateway.yaml`]: gateway(),
    [`${net}/destination-rule-all.yaml`]: destinationRules(),
    [`${net}/destination-rule-all-mtls.yaml`]: destinationRules({ tls: { mode: 'ISTIO_MUTUAL' } }),
    [`${net}/destination-rule-reviews.yaml`]: docs([{ apiVersion: NET, kind: 'DestinationRule', metadata: { name: 'reviews' }, spec: { host: 'reviews', trafficPolicy: { loadBalancer: { simple: 'RANDOM' } }, subsets: subsets(['v1', 'v2', 'v3']) } }]),
    [`${net}/virtual-service-all-v1.yaml`]: allV1(),
    [`${net}/virtual-service-reviews-50-v3.yaml`]: reviewsVS([{ route: [dest('v1', 50), dest('v3', 50)] }]),
    [`${net}/virtual-service-reviews-80-20.yaml`]: reviewsVS([{ route: [dest('v1', 80), dest('v2', 20)] }]),
    [`${net}/virtual-service-reviews-90-10.yaml`]: reviewsVS([{ route: [dest('v1', 90), dest('v2', 10)] }]),
    [`${net}/virtual-service-reviews-jason-v2-v3.yaml`]: reviewsVS(jason('v2', 'v3')),
    [`${net}/virtual-service-reviews-test-v2.yaml`]: reviewsVS(jason('v2', 'v1')),
    [`${net}/virtual-service-reviews-v2-v3.yaml`]: reviewsVS([{ route: [dest('v2', 50), dest('v3', 50)] }]),
    [`${net}/virtual-service-reviews-v3.yaml`]: reviewsVS([{ route: [dest('v3')] }]),
    [`${net}/virtual-service-ratings-test-delay.yaml`]: ratingsFault({ delay: { percentage: { value: 100.0 }, fixedDelay: '7s' } }),
    [`${net}/virtual-service-ratings-test-abort.yaml`]: ratingsFault({ abort: { percentage: { value: 100.0 }, httpStatus: 500 } }),
  };
}
