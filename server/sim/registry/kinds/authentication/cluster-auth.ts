/**
 * One cluster's authentication and authorization, as kube-apiserver's handler chain has them:
 * bearer tokens (the learner's admin token, ServiceAccount JWTs), then the authorizer (the
 * privileged group, then RBAC). The HTTP layer, the review kinds and the RBAC escalation check
 * all ask this one object.
 */
import { timingSafeEqual } from 'node:crypto';
import type { ObjectStore } from '../../../storage/store.js';
import { RbacEvaluator, type Attributes, type Decision, type PolicyRule } from '../rbac/evaluator.js';
import { ServiceAccountTokens } from './tokens.js';
import { KUBEADM_ADMIN, type UserInfo } from './user.js';

export class ClusterAuth {
  readonly rbac: RbacEvaluator;
  readonly tokens: ServiceAccountTokens;
  private readonly admin: Buffer;

  constructor(store: ObjectStore, adminToken: string, signingKeyPem: string) {
    this.rbac = new RbacEvaluator(store);
    this.tokens = new ServiceAccountTokens(store, signingKeyPem);
    this.admin = Buffer.from(adminToken);
  }

  close(): void {
    this.rbac.close();
  }

  /** Who a bearer token is, or undefined (401) when it is no valid token of this cluster. */
  authenticateToken(token: string): UserInfo | undefined {
    const t = Buffer.from(token);
    if (t.length === this.admin.length && timingSafeEqual(t, this.admin)) return KUBEADM_ADMIN;
    return this.tokens.authenticate(token)?.user;
  }

  authorize(a: Attributes): Decision {
    return this.rbac.authorize(a);
  }

  rulesFor(user: UserInfo, namespace: string): { rules: PolicyRule[]; errors: string[] } {
    return this.rbac.rulesFor(user, namespace);
  }
}
