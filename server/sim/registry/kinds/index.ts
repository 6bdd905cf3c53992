/**
 * The built-in kinds the embedded cluster serves, one module each (pkg/registry/<group>/<kind>
 * in kube-apiserver), in the order discovery lists them. A new built-in kind is one module under
 * kinds/<group>/ plus one line here; discovery, OpenAPI, Tables, managed fields and strategic
 * merge follow from its definition.
 */
import type { GroupVersionKind } from '../../types.js';
import { isKind, type KindDefinition } from '../kind.js';
import { mutatingWebhookConfigurationKind, validatingWebhookConfigurationKind } from './admissionregistration/webhookconfigurations.js';
import { customResourceDefinitionKind } from './apiextensions/customresourcedefinition.js';
import { controllerRevisionKind } from './apps/controllerrevision.js';
import { daemonSetKind } from './apps/daemonset.js';
import { deploymentKind } from './apps/deployment.js';
import { replicaSetKind } from './apps/replicaset.js';
import { statefulSetKind } from './apps/statefulset.js';
import { selfSubjectReviewKind, tokenReviewKind } from './authentication/selfsubjectreview.js';
import { localSubjectAccessReviewKind, selfSubjectAccessReviewKind, selfSubjectRulesReviewKind, subjectAccessReviewKind } from './authorization/reviews.js';
import { horizontalPodAutoscalerV1Kind, horizontalPodAutoscalerV2Kind } from './autoscaling/horizontalpodautoscaler.js';
import { cronJobKind } from './batch/cronjob.js';
import { jobKind } from './batch/job.js';
import { leaseKind } from './coordination/lease.js';
import { configMapKind } from './core/configmap.js';
import { endpointsKind } from './core/endpoints.js';
import { eventKind } from './core/event.js';
import { limitRangeKind } from './core/limitrange.js';
import { namespaceKind } from './core/namespace.js';
import { nodeKind } from './core/node.js';
import { persistentVolumeKind } from './core/persistentvolume.js';
import { persistentVolumeClaimKind } from './core/persistentvolumeclaim.js';
import { podKind } from './core/pod.js';
import { podTemplateKind } from './core/podtemplate.js';
import { replicationControllerKind } from './core/replicationcontroller.js';
import { resourceQuotaKind } from './core/resourcequota.js';
import { secretKind } from './core/secret.js';
import { serviceKind } from './core/service.js';
import { serviceAccountKind } from './core/serviceaccount.js';
import { endpointSliceKind } from './discovery/endpointslice.js';
import { eventsV1EventKind } from './events/event.js';
import { ingressKind } from './networking/ingress.js';
import { ingressClassKind } from './networking/ingressclass.js';
import { networkPolicyKind } from './networking/networkpolicy.js';
import { podDisruptionBudgetKind } from './policy/poddisruptionbudget.js';
import { clusterRoleKind, roleKind } from './rbac/role.js';
import { clusterRoleBindingKind, roleBindingKind } from './rbac/rolebinding.js';
import { priorityClassKind } from './scheduling/priorityclass.js';
import { storageClassKind } from './storage/storageclass.js';

export const BUILTIN_KINDS: readonly KindDefinition[] = [
  configMapKind,
  endpointsKind,
  eventKind,
  limitRangeKind,
  namespaceKind,
  nodeKind,
  persistentVolumeClaimKind,
  persistentVolumeKind,
  podKind,
  podTemplateKind,
  replicationControllerKind,
  resourceQuotaKind,
  secretKind,
  serviceAccountKind,
  serviceKind,

  mutatingWebhookConfigurationKind,
  validatingWebhookConfigurationKind,
  customResourceDefinitionKind,
  controllerRevisionKind,
  daemonSetKind,
  deploymentKind,
  replicaSetKind,
  statefulSetKind,
  horizontalPodAutoscalerV2Kind,
  horizontalPodAutoscalerV1Kind,
  localSubjectAccessReviewKind,
  selfSubjectAccessReviewKind,
  selfSubjectRulesReviewKind,
  subjectAccessReviewKind,
  selfSubjectReviewKind,
  tokenReviewKind,
  cronJobKind,
  jobKind,
  leaseKind,
  endpointSliceKind,
  eventsV1EventKind,
  ingressClassKind,
  ingressKind,
  networkPolicyKind,
  podDisruptionBudgetKind,
  clusterRoleBindingKind,
  clusterRoleKind,
  roleBindingKind,
  roleKind,
  priorityClassKind,
  storageClassKind,
];

/** The built-in definition of a group/version/kind (callers that have no served resource at hand). */
export function builtinKind(gvk: GroupVersionKind): KindDefinition | undefined {
  return BUILTIN_KINDS.find((d) => isKind(d, gvk));
}

/** The built-in definition serving a group/resource (any version; the preferred one first). */
export function builtinKindOfResource(group: string, resource: string): KindDefinition | undefined {
  const all = BUILTIN_KINDS.filter((d) => d.group === group && d.names.plural === resource);
  return all.find((d) => d.preferred !== false) ?? all[0];
}
