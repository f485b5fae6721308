{{/*
Names, labels, images and the Redis URL shared by the templates.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "freehold.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object name: fullnameOverride, else the release name when it already holds
the chart name, else "<release>-<chart>". Cut to 40 characters so suffixes fit in 63.
*/}}
{{- define "freehold.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := include "freehold.name" . }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "freehold.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "freehold.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: freehold
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of one component: include with (dict "context" $ "component" "operator"). */}}
{{- define "freehold.selectorLabels" -}}
app.kubernetes.io/name: {{ include "freehold.name" .context }}
app.kubernetes.io/instance: {{ .context.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* An image reference: include with (dict "context" $ "image" .Values.operator.image). */}}
{{- define "freehold.image" -}}
{{- printf "%s:%s" .image.repository (default .context.Chart.AppVersion .image.tag) }}
{{- end }}

{{/* The operator's ServiceAccount name. */}}
{{- define "freehold.operatorServiceAccountName" -}}
{{- default (printf "%s-operator" (include "freehold.fullname" .)) .Values.operator.serviceAccount.name }}
{{- end }}

{{/*
The Redis URL variable of a container (include with (dict "context" $ "name" "REDIS_URL")): the
in-chart Redis, a Secret the user names, or the URL the user gives. Fails with what to set when
Redis is turned off and none is given.
*/}}
{{- define "freehold.redisUrlEnv" -}}
{{- $values := .context.Values -}}
- name: {{ .name }}
{{- if $values.redis.enabled }}
  value: {{ printf "redis://%s-redis.%s.svc:6379" (include "freehold.fullname" .context) .context.Release.Namespace | quote }}
{{- else if $values.redis.existingSecret.name }}
  valueFrom:
    secretKeyRef:
      name: {{ $values.redis.existingSecret.name }}
      key: {{ $values.redis.existingSecret.key }}
{{- else if $values.redis.url }}
  value: {{ $values.redis.url | quote }}
{{- else }}
{{- fail "redis.enabled is false but no Redis is given: set redis.url (redis://host:6379) or redis.existingSecret.name (a Secret holding the URL)" }}
{{- end }}
{{- end }}

{{/* The pod security context of every pod of the chart: not root, default seccomp profile. */}}
{{- define "freehold.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .user | default 65532 }}
runAsGroup: {{ .user | default 65532 }}
fsGroup: {{ .user | default 65532 }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* The container security context of every container of the chart. */}}
{{- define "freehold.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end }}
