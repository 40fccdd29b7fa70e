# bench/static_nginx.sh: sourced by bench/polling.sh and bench/serving_vs_nginx.sh, so both
# compare tributary's serving with the same nginx.
#
# static_nginx ROOT PORT RUN_DIR CPU: nginx (one worker, pinned to CPU) serving ROOT's files and,
# to a client accepting gzip, their ready .gz siblings (gzip_static): the same bytes tributary
# serves, from files, with the farm's settings otherwise. Its pid file is RUN_DIR/nginx.pid.
static_nginx() {
    local root=$1 port=$2 run=$3 cpu=$4
    mkdir -p "$run"
    cat >"$run/nginx.conf" <<CONF
worker_processes 1;
pid $run/nginx.pid;
error_log $run/error.log warn;
events { worker_connections 8192; multi_accept on; }
http {
    types { application/atom+xml atom; text/html html; }
    client_body_temp_path $run/tmp-body;
    proxy_temp_path $run/tmp-proxy;
    fastcgi_temp_path $run/tmp-fcgi;
    uwsgi_temp_path $run/tmp-uwsgi;
    scgi_temp_path $run/tmp-scgi;
    access_log off;
    sendfile on; tcp_nopush on; tcp_nodelay on;
    keepalive_timeout 65s; keepalive_requests 1000000;
    open_file_cache max=1000 inactive=120s; open_file_cache_valid 120s;
    etag on; if_modified_since before; server_tokens off;
    gzip off; gzip_static on;
    server {
        listen 127.0.0.1:$port backlog=4096;
        root $root;
        index index.html;
    }
}
CONF
    chmod -R a+rX "$root"
    taskset -c "$cpu" /usr/sbin/nginx -p "$run" -e "$run/error.log" -c "$run/nginx.conf"
}
