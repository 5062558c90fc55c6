{{/* Names, labels and the values vestibule derives from other values. */}}

{{- define "vestibule.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "vestibule.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "vestibule.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "vestibule.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vestibule.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "vestibule.labels" -}}
helm.sh/chart: {{ include "vestibule.chart" . }}
{{ include "vestibule.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "vestibule.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "vestibule.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "vestibule.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Comma-separated public base URLs: explicit, else https://<host><path> per ingress host. */}}
{{- define "vestibule.ingressUrls" -}}
{{- $urls := list }}
{{- if .Values.vestibule.ingressUrls }}
{{- $urls = .Values.vestibule.ingressUrls }}
{{- else if .Values.ingress.enabled }}
{{- range .Values.ingress.hosts }}
{{- $urls = append $urls (printf "https://%s%s" .host (trimSuffix "/" (default "/" .path))) }}
{{- end }}
{{- end }}
{{- join "," $urls }}
{{- end }}

{{/* "true" when any Redis store is configured. */}}
{{- define "vestibule.redisEnabled" -}}
{{- with .Values.redis }}
{{- if or .url .existingSecret .sentinels .clusterNodes }}true{{ end }}
{{- end }}
{{- end }}


{{/* "true" when a session store is configured: redis.*, or Secrets that hold it (extraEnvFrom). */}}
{{- define "vestibule.sessionStore" -}}
{{- if or (include "vestibule.redisEnabled" .) .Values.extraEnvFrom.providesSessionStore }}true{{ end }}
{{- end }}
