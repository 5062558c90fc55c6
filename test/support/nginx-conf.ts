/**
 * The whole nginx.conf of a private nginx: one process, not a daemon (`master_process off`), its pid, error
 * log and temp paths under `dir`, no access log; `http` is the inside of the `http {}` block.
 */
export function nginxConf(
  dir: string,
  http: string,
  o: { readonly errorLogLevel?: string; readonly workerConnections?: number } = {},
): string {
  return `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log ${o.errorLogLevel ?? 'info'};
events { worker_connections ${o.workerConnections ?? 256}; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${http}
}
`;
}
