/** admissionregistration.k8s.io/v1 Mutating- and ValidatingWebhookConfiguration. */
import type { KindDefinition } from '../../kind.js';
import { keyedList, struct } from '../../patch/merge-schema.js';
import { mutatingWebhookConfigurationPrinter, validatingWebhookConfigurationPrinter } from '../../printers/builtin.js';
import { specKind } from '../../strategies/generic.js';

const webhooks = struct({ metadata: 'ObjectMeta', webhooks: keyedList('Webhook', 'name') });

export const mutatingWebhookConfigurationKind: KindDefinition = {
  group: 'admissionregistration.k8s.io',
  version: 'v1',
  kind: 'MutatingWebhookConfiguration',
  names: { plural: 'mutatingwebhookconfigurations', categories: ['api-extensions'] },
  scope: 'Cluster',
  strategy: specKind('subdomain', false),
  mergeSchema: webhooks,
  printer: mutatingWebhookConfigurationPrinter,
};

export const validatingWebhookConfigurationKind: KindDefinition = {
  group: 'admissionregistration.k8s.io',
  version: 'v1',
  kind: 'ValidatingWebhookConfiguration',
  names: { plural: 'validatingwebhookconfigurations', categories: ['api-extensions'] },
  scope: 'Cluster',
  strategy: specKind('subdomain', false),
  mergeSchema: webhooks,
  printer: validatingWebhookConfigurationPrinter,
};
