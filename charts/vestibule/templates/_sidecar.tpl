{{/*
The vestibule container. Secrets reach it only through envFrom (Entra, extraEnvFrom) and secretKeyRef
(Redis URL, encryption keys, admin token): no secret value is ever written into the pod spec.
*/}}
{{- define "vestibule.sidecar" -}}
{{- $redis := include "vestibule.redisEnabled" . -}}
{{- $store := include "vestibule.sessionStore" . -}}
{{- $listeners := .Values.listeners -}}
{{- with .Values.extraEnvFrom }}
{{- if and (or .providesSessionStore .providesEncryptionKey) (not .secrets) }}
{{- fail "extraEnvFrom.providesSessionStore and providesEncryptionKey need the Secrets in extraEnvFrom.secrets" }}
{{- end }}
{{- if and .providesSessionStore $redis }}
{{- fail "set redis.* or extraEnvFrom.providesSessionStore, not both" }}
{{- end }}
{{- end }}
{{- if and $listeners.forwardAuth.enabled (not .Values.vestibule.forwardAuth) }}
{{- fail "listeners.forwardAuth needs vestibule.forwardAuth=true (vestibule refuses VESTIBULE_FORWARD_AUTH_BIND_ADDRESS without VESTIBULE_FORWARD_AUTH)" }}
{{- end }}
{{- if and (eq .Values.probes.port "probe") (not $listeners.probe.enabled) }}
{{- fail "probes.port=probe needs listeners.probe.enabled=true" }}
{{- end }}
{{- $ports := list 7564 7565 7164 (int .Values.app.port) }}
{{- range $name := list "probe" "tokenProbe" "forwardAuth" }}
{{- $l := index $listeners $name }}
{{- if $l.enabled }}
{{- if has (int $l.port) $ports }}
{{- fail (printf "listeners.%s.port %d is already used (7564, 7565, 7164, app.port and the other listeners must differ)" $name (int $l.port)) }}
{{- end }}
{{- $ports = append $ports (int $l.port) }}
{{- end }}
{{- end }}
{{- if and .Values.redis.url .Values.redis.existingSecret }}
{{- fail "set redis.url or redis.existingSecret, not both" }}
{{- end }}
{{- if and .Values.redis.sentinels .Values.redis.clusterNodes }}
{{- fail "set redis.sentinels or redis.clusterNodes, not both" }}
{{- end }}
{{- if and (gt (int .Values.replicaCount) 1) (not $store) }}
{{- fail "replicaCount > 1 needs a shared session store: configure redis.* (sessions in one pod's memory cannot finish a login started on another)" }}
{{- end }}
{{- if and (not $store) (not .Values.developmentMode) }}
{{- fail "no session store: configure redis.url, redis.existingSecret, redis.sentinels or redis.clusterNodes (or Secrets that hold it, extraEnvFrom.providesSessionStore; vestibule refuses to start without one), or set developmentMode=true for an in-memory store on one replica, in development only" }}
{{- end }}
{{- if and $store (not .Values.encryptionKey.existingSecret) (not .Values.extraEnvFrom.providesEncryptionKey) }}
{{- fail "encryptionKey.existingSecret is required when a Redis store is configured (or Secrets that hold the key, extraEnvFrom.providesEncryptionKey)" }}
{{- end }}
{{- if lt (int .Values.terminationGracePeriodSeconds) (add (int .Values.vestibule.shutdownTimeoutSeconds) 5 | int) }}
{{- fail "terminationGracePeriodSeconds must be at least vestibule.shutdownTimeoutSeconds + 5" }}
{{- end }}
- name: vestibule
  image: {{ include "vestibule.image" . | quote }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  {{- if eq .Values.sidecar.mode "native" }}
  restartPolicy: Always
  {{- end }}
  ports:
    - name: http
      containerPort: 7564
      protocol: TCP
    - name: admin
      containerPort: 7565
      protocol: TCP
    {{- if $listeners.probe.enabled }}
    - name: probe
      containerPort: {{ $listeners.probe.port }}
      protocol: TCP
    {{- end }}
    {{- if $listeners.tokenProbe.enabled }}
    - name: token-probe
      containerPort: {{ $listeners.tokenProbe.port }}
      protocol: TCP
    {{- end }}
    {{- if $listeners.forwardAuth.enabled }}
    - name: forward-auth
      containerPort: {{ $listeners.forwardAuth.port }}
      protocol: TCP
    {{- end }}
  {{- if not (or .Values.entra.existingSecret .Values.workloadIdentity.enabled) }}
  {{- fail "entra.existingSecret is required (or workloadIdentity.enabled, where the webhook injects the identity)" }}
  {{- end }}
  {{- if or .Values.entra.existingSecret .Values.extraEnvFrom.secrets }}
  envFrom:
    {{- with .Values.entra.existingSecret }}
    - secretRef:
        name: {{ . | quote }}
    {{- end }}
    {{- range .Values.extraEnvFrom.secrets }}
    - secretRef:
        name: {{ . | quote }}
    {{- end }}
  {{- end }}
  env:
    - name: VESTIBULE_INGRESS
      value: {{ required "set ingress.hosts (with ingress.enabled) or vestibule.ingressUrls" (include "vestibule.ingressUrls" .) | quote }}
    {{- with .Values.entra.clientAssertionAudience }}
    - name: VESTIBULE_CLIENT_ASSERTION_AUDIENCE
      value: {{ . | quote }}
    {{- end }}
    - name: VESTIBULE_UPSTREAM
      value: {{ printf "http://127.0.0.1:%d" (int .Values.app.port) | quote }}
    - name: VESTIBULE_BIND_ADDRESS
      value: "0.0.0.0:7564"
    - name: VESTIBULE_ADMIN_BIND_ADDRESS
      value: "0.0.0.0:7565"
    - name: VESTIBULE_TOKEN_BIND_ADDRESS
      value: "127.0.0.1:7164"
    {{- if $listeners.probe.enabled }}
    - name: VESTIBULE_PROBE_BIND_ADDRESS
      value: {{ printf "0.0.0.0:%d" (int $listeners.probe.port) | quote }}
    {{- end }}
    {{- if $listeners.tokenProbe.enabled }}
    - name: VESTIBULE_TOKEN_PROBE_BIND_ADDRESS
      value: {{ printf "0.0.0.0:%d" (int $listeners.tokenProbe.port) | quote }}
    {{- end }}
    {{- if $listeners.forwardAuth.enabled }}
    - name: VESTIBULE_FORWARD_AUTH_BIND_ADDRESS
      value: {{ printf "0.0.0.0:%d" (int $listeners.forwardAuth.port) | quote }}
    {{- end }}
    {{- with .Values.admin.tokenSecret }}
    {{- if .name }}
    - name: VESTIBULE_ADMIN_TOKEN
      valueFrom:
        secretKeyRef:
          name: {{ .name | quote }}
          key: {{ .key | quote }}
    {{- end }}
    {{- end }}
    - name: VESTIBULE_AUTO_LOGIN
      value: {{ .Values.vestibule.autoLogin | toString | quote }}
    {{- with .Values.vestibule.autoLoginIgnorePaths }}
    - name: VESTIBULE_AUTO_LOGIN_IGNORE_PATHS
      value: {{ join "," . | quote }}
    {{- end }}
    {{- with .Values.vestibule.requireTokenPaths }}
    - name: VESTIBULE_REQUIRE_TOKEN_PATHS
      value: {{ join "," . | quote }}
    {{- end }}
    - name: VESTIBULE_SESSION_MAX_LIFETIME
      value: {{ .Values.vestibule.sessionMaxLifetime | quote }}
    {{- with .Values.vestibule.inactivityTimeout }}
    - name: VESTIBULE_SESSION_INACTIVITY_TIMEOUT
      value: {{ . | quote }}
    {{- end }}
    - name: VESTIBULE_FORWARD_AUTH
      value: {{ .Values.vestibule.forwardAuth | toString | quote }}
    - name: VESTIBULE_CSRF_CHECK
      value: {{ .Values.vestibule.csrfCheck | toString | quote }}
    - name: VESTIBULE_LOG_LEVEL
      value: {{ .Values.vestibule.logLevel | quote }}
    {{- with .Values.vestibule.scopes }}
    - name: VESTIBULE_SCOPES
      value: {{ . | quote }}
    {{- end }}
    {{- with .Values.vestibule.trustedProxies }}
    - name: VESTIBULE_TRUSTED_PROXIES
      value: {{ join "," . | quote }}
    {{- end }}
    - name: VESTIBULE_SHUTDOWN_TIMEOUT
      value: {{ printf "%ds" (int .Values.vestibule.shutdownTimeoutSeconds) | quote }}
    {{- if and .Values.developmentMode (not $store) }}
    - name: VESTIBULE_DEVELOPMENT_MODE
      value: "true"
    {{- end }}
    {{- with .Values.redis }}
    {{- if .url }}
    - name: VESTIBULE_REDIS_URL
      value: {{ .url | quote }}
    {{- else if .existingSecret }}
    - name: VESTIBULE_REDIS_URL
      valueFrom:
        secretKeyRef:
          name: {{ .existingSecret | quote }}
          key: {{ .existingSecretKey | quote }}
    {{- end }}
    {{- with .sentinels }}
    - name: VESTIBULE_REDIS_SENTINELS
      value: {{ join "," . | quote }}
    {{- end }}
    {{- if .sentinels }}
    - name: VESTIBULE_REDIS_SENTINEL_MASTER
      value: {{ .sentinelMaster | quote }}
    {{- end }}
    {{- with .clusterNodes }}
    - name: VESTIBULE_REDIS_CLUSTER_NODES
      value: {{ join "," . | quote }}
    {{- end }}
    {{- end }}
    {{- with .Values.encryptionKey }}
    {{- if .existingSecret }}
    - name: VESTIBULE_ENCRYPTION_KEY
      valueFrom:
        secretKeyRef:
          name: {{ .existingSecret | quote }}
          key: {{ .key | quote }}
    {{- if .previousKeysKey }}
    - name: VESTIBULE_ENCRYPTION_KEY_PREVIOUS
      valueFrom:
        secretKeyRef:
          name: {{ .existingSecret | quote }}
          key: {{ .previousKeysKey | quote }}
          optional: true
    {{- end }}
    {{- end }}
    {{- end }}
    {{- with .Values.vestibule.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with .Values.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  startupProbe:
    httpGet:
      path: /healthz
      port: {{ .Values.probes.port }}
    periodSeconds: 2
    failureThreshold: 30
    timeoutSeconds: 2
  livenessProbe:
    httpGet:
      path: /healthz
      port: {{ .Values.probes.port }}
    periodSeconds: 10
    failureThreshold: 3
    timeoutSeconds: 2
  readinessProbe:
    httpGet:
      path: /readyz
      port: {{ .Values.probes.port }}
    periodSeconds: 5
    failureThreshold: 2
    timeoutSeconds: 2
{{- end }}
