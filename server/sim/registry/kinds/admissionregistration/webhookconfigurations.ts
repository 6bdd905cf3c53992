/** admissionregistration.k8s.io/v1 Mutating- and ValidatingWebhookConfiguration. */
import type { KindDefinition } from '../../kind.js';
import { keyedList, struct } from '../../patch/merge-schema.js';
import { specKind } from '../../strategies/generic.js';
import { validateWebhookConfiguration, webhookDefaults } from './webhook-validation.js';
import { age, ageCol, col, len, name, nameCol, type Any, type KindPrinter } from '../../printers/columns.js';

const webhooks = struct({ metadata: 'ObjectMeta', webhooks: keyedList('Webhook', 'name') });

export const mutatingWebhookConfigurationPrinter: KindPrinter = webhookPrinter();

export const validatingWebhookConfigurationPrinter: KindPrinter = webhookPrinter();

function webhookPrinter(): KindPrinter {
  return {
    columns: [nameCol(), col('Webhooks', 'integer', 'Webhooks indicates the number of webhooks registered in this configuration'), ageCol()],
    cells: (o: Any, now) => [name(o), len(o.webhooks), age(o, now)],
  };
}

export const mutatingWebhookConfigurationKind: KindDefinition = {
  group: 'admissionregistration.k8s.io',
  version: 'v1',
  kind: 'MutatingWebhookConfiguration',
  names: { plural: 'mutatingwebhookconfigurations', categories: ['api-extensions'] },
  scope: 'Cluster',
  strategy: specKind('subdomain', false, { defaults: webhookDefaults(true), validate: validateWebhookConfiguration(true) }),
  mergeSchema: webhooks,
  printer: mutatingWebhookConfigurationPrinter,
};

export const validatingWebhookConfigurationKind: KindDefinition = {
  group: 'admissionregistration.k8s.io',
  version: 'v1',
  kind: 'ValidatingWebhookConfiguration',
  names: { plural: 'validatingwebhookconfigurations', categories: ['api-extensions'] },
  scope: 'Cluster',
  strategy: specKind('subdomain', false, { defaults: webhookDefaults(false), validate: validateWebhookConfiguration(false) }),
  mergeSchema: webhooks,
  printer: validatingWebhookConfigurationPrinter,
};
