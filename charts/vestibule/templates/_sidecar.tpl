{{/*
The vestibule container. Secrets reach it only through envFrom (Entra) and secretKeyRef
(Redis URL, encryption keys): no secret value is ever written into the pod spec.
*/}}
{{- define "vestibule.sidecar" -}}
{{- $redis := include "vestibule.redisEnabled" . -}}
{{- if and .Values.redis.url .Values.redis.existingSecret }}
{{- fail "set redis.url or redis.existingSecret, not both" }}
{{- end }}
{{- if and .Values.redis.sentinels .Values.redis.clusterNodes }}
{{- fail "set redis.sentinels or redis.clusterNodes, not both" }}
{{- end }}
{{- if and (gt (int .Values.replicaCount) 1) (not $redis) }}
{{- fail "replicaCount > 1 needs a shared session store: configure redis.* (sessions in one pod's memory cannot finish a login started on another)" }}
{{- end }}
{{- if and (not $redis) (not .Values.developmentMode) }}
{{- fail "no session store: configure redis.url, redis.existingSecret, redis.sentinels or redis.clusterNodes (vestibule refuses to start without one), or set developmentMode=true for an in-memory store on one replica, in development only" }}
{{- end }}
{{- if and $redis (not .Values.encryptionKey.existingSecret) }}
{{- fail "encryptionKey.existingSecret is required when a Redis store is configured" }}
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
  envFrom:
    - secretRef:
        name: {{ required "entra.existingSecret is required" .Values.entra.existingSecret | quote }}
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
    {{- if and .Values.developmentMode (not $redis) }}
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
      port: admin
    periodSeconds: 2
    failureThreshold: 30
    timeoutSeconds: 2
  livenessProbe:
    httpGet:
      path: /healthz
      port: admin
    periodSeconds: 10
    failureThreshold: 3
    timeoutSeconds: 2
  readinessProbe:
    httpGet:
      path: /readyz
      port: admin
    periodSeconds: 5
    failureThreshold: 2
    timeoutSeconds: 2
{{- end }}
