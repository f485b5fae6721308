/**
 * The shapes of the Kubernetes objects the operator writes and reads, as plain JSON: only the
 * fields it uses. (The client library's model classes are for objects built with their
 * constructors; translations build plain literals that are sent as JSON.)
 *
 * @module
 */

/** A controller reference from a child to its owner. */
export interface OwnerReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller?: boolean;
  readonly blockOwnerDeletion?: boolean;
}

/** Object metadata. */
export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly generation?: number;
  readonly creationTimestamp?: string;
  readonly resourceVersion?: string;
  readonly deletionTimestamp?: string;
  readonly finalizers?: readonly string[];
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly ownerReferences?: readonly OwnerReference[];
}

/** Any object: what is applied, deleted and cached. */
export interface KubernetesObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ObjectMeta;
}

/** A key of a Secret, for an environment variable. */
export interface SecretKeyReference {
  readonly name: string;
  readonly key: string;
}

/** A container's environment variable: a literal or a Secret key. */
export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: { readonly secretKeyRef: SecretKeyReference };
}

/** An HTTP probe. */
export interface Probe {
  readonly httpGet: { readonly path: string; readonly port: string | number };
  readonly periodSeconds?: number;
  readonly failureThreshold?: number;
}

/** A container. */
export interface Container {
  readonly name: string;
  readonly image: string;
  readonly imagePullPolicy?: string;
  readonly command: readonly string[];
  readonly env?: readonly EnvVar[];
  readonly workingDir?: string;
  readonly ports?: readonly {
    readonly name: string;
    readonly containerPort: number;
    readonly protocol: string;
  }[];
  readonly resources?: {
    readonly requests?: Readonly<Record<string, string>>;
    readonly limits?: Readonly<Record<string, string>>;
  };
  readonly livenessProbe?: Probe;
  readonly readinessProbe?: Probe;
  readonly securityContext?: Readonly<Record<string, unknown>>;
  readonly volumeMounts?: readonly {
    readonly name: string;
    readonly mountPath: string;
    readonly readOnly?: boolean;
  }[];
}

/** A pod volume. */
export interface Volume {
  readonly name: string;
  readonly emptyDir?: Readonly<Record<string, never>>;
  readonly configMap?: {
    readonly name: string;
    readonly items?: readonly { readonly key: string; readonly path: string }[];
  };
}

/** A pod template. */
export interface PodTemplate {
  readonly metadata: {
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly spec: {
    readonly serviceAccountName?: string;
    readonly automountServiceAccountToken?: boolean;
    readonly securityContext?: Readonly<Record<string, unknown>>;
    readonly containers: readonly Container[];
    readonly volumes?: readonly Volume[];
  };
}

/** apps/v1 Deployment. */
export interface Deployment extends KubernetesObject {
  readonly spec: {
    readonly replicas?: number;
    readonly selector: { readonly matchLabels: Readonly<Record<string, string>> };
    readonly template: PodTemplate;
  };
  readonly status?: {
    readonly replicas?: number;
    readonly readyReplicas?: number;
    readonly updatedReplicas?: number;
    readonly observedGeneration?: number;
  };
}

/** v1 Service. */
export interface Service extends KubernetesObject {
  readonly spec: {
    readonly clusterIP?: string;
    readonly selector: Readonly<Record<string, string>>;
    readonly ports?: readonly {
      readonly name: string;
      readonly port: number;
      readonly targetPort: string | number;
      readonly protocol: string;
    }[];
  };
}

/** v1 ConfigMap. */
export interface ConfigMap extends KubernetesObject {
  readonly data: Readonly<Record<string, string>>;
}

/** v1 ServiceAccount. */
export interface ServiceAccount extends KubernetesObject {
  readonly automountServiceAccountToken?: boolean;
}

/** A generic object with a spec, for kinds used as-is (HorizontalPodAutoscaler, KEDA's ScaledObject). */
export interface SpecObject extends KubernetesObject {
  readonly spec: Readonly<Record<string, unknown>>;
}

/** v1 Secret (values base64 in `data`). */
export interface Secret extends KubernetesObject {
  readonly type?: string;
  readonly data?: Readonly<Record<string, string>>;
}

/** v1 Namespace. */
export interface Namespace extends KubernetesObject {
  readonly status?: { readonly phase?: string };
}

/** A subject of a RoleBinding. */
export interface RbacSubject {
  readonly kind: "User" | "Group" | "ServiceAccount";
  readonly name: string;
  readonly apiGroup?: string;
  readonly namespace?: string;
}

/** rbac.authorization.k8s.io/v1 RoleBinding. */
export interface RoleBinding extends KubernetesObject {
  readonly roleRef: {
    readonly apiGroup: string;
    readonly kind: "ClusterRole" | "Role";
    readonly name: string;
  };
  readonly subjects: readonly RbacSubject[];
}

/** A label selector. */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly {
    readonly key: string;
    readonly operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
    readonly values?: readonly string[];
  }[];
}

/** A peer of a network policy rule. */
export interface NetworkPolicyPeer {
  readonly namespaceSelector?: LabelSelector;
  readonly podSelector?: LabelSelector;
  readonly ipBlock?: { readonly cidr: string; readonly except?: readonly string[] };
}

/** A port of a network policy rule. */
export interface NetworkPolicyPort {
  readonly protocol: "TCP" | "UDP";
  readonly port: number;
}

/** networking.k8s.io/v1 NetworkPolicy. */
export interface NetworkPolicy extends KubernetesObject {
  readonly spec: {
    readonly podSelector: LabelSelector;
    readonly policyTypes: readonly ("Ingress" | "Egress")[];
    readonly ingress: readonly {
      readonly from: readonly NetworkPolicyPeer[];
      readonly ports?: readonly NetworkPolicyPort[];
    }[];
    /** Absent when `policyTypes` has no Egress. */
    readonly egress?: readonly {
      readonly to?: readonly NetworkPolicyPeer[];
      readonly ports?: readonly NetworkPolicyPort[];
    }[];
  };
}

/** v1 ResourceQuota. */
export interface ResourceQuota extends KubernetesObject {
  readonly spec: { readonly hard: Readonly<Record<string, string>> };
}

/** v1 LimitRange. */
export interface LimitRange extends KubernetesObject {
  readonly spec: {
    readonly limits: readonly {
      readonly type: "Container";
      readonly defaultRequest: Readonly<Record<string, string>>;
    }[];
  };
}
