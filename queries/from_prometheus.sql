-- The tables app, layers and views from a Django app's metrics in Prometheus
-- (django-prometheus' names), so that queries/rank_*.sql run on them as they are:
--
--   perfcorr --var prom=http://localhost:9090 --var start=2026-11-19T00:00:00Z \
--            --var end=2026-11-19T23:59:00Z -f queries/from_prometheus.sql -f queries/rank_layers.sql
--
-- Variables (--var NAME=VALUE): prom (the server's base URL), start and end
-- (RFC 3339 or Unix seconds), step (default 1m: one row per series per step)
-- and window (the rate() window, default 1m: keep it equal to step, so that
-- each row covers its own minutes and no two rows share requests; with
-- Prometheus 3 and samples exactly one step apart, use a little more, e.g. 90s).
--
-- app:    response_ms     = seconds over requests of the whole app, in ms
--         throughput_rpm  = requests per minute
-- views:  the same per view label (summed over methods and transports)
-- layers: time per request in each layer, in ms: SQL from the database query
--         durations; other layers only if the app records them itself as a
--         histogram app_layer_duration_seconds{layer="..."}.
-- A minute without requests has no mean response time (0/0 = NaN: missing).

CREATE OR REPLACE VIEW app AS
SELECT t.ts, t.value AS response_ms, r.value AS throughput_rpm
FROM prometheus('${prom}',
        'sum(rate(django_http_requests_latency_including_middlewares_seconds_sum[${window:-1m}]))
         / sum(rate(django_http_requests_latency_including_middlewares_seconds_count[${window:-1m}])) * 1000',
        '${start}', '${end}', '${step:-1m}') t
LEFT JOIN prometheus('${prom}',
        'sum(rate(django_http_requests_before_middlewares_total[${window:-1m}])) * 60',
        '${start}', '${end}', '${step:-1m}') r
    ON t.ts = r.ts;

CREATE OR REPLACE VIEW views AS
SELECT t.view, t.ts, t.value AS response_ms, r.value AS throughput_rpm
FROM prometheus('${prom}',
        'sum by (view) (rate(django_http_requests_latency_seconds_by_view_method_sum[${window:-1m}]))
         / sum by (view) (rate(django_http_requests_latency_seconds_by_view_method_count[${window:-1m}])) * 1000',
        '${start}', '${end}', '${step:-1m}', 'labels=view') t
LEFT JOIN prometheus('${prom}',
        'sum by (view) (rate(django_http_requests_total_by_view_transport_method_total[${window:-1m}])) * 60',
        '${start}', '${end}', '${step:-1m}', 'labels=view') r
    ON t.view = r.view AND t.ts = r.ts;

CREATE OR REPLACE VIEW layers AS
SELECT 'SQL' AS layer, ts, value AS ms
FROM prometheus('${prom}',
        'sum(rate(django_db_query_duration_seconds_sum[${window:-1m}]))
         / sum(rate(django_http_requests_before_middlewares_total[${window:-1m}])) * 1000',
        '${start}', '${end}', '${step:-1m}')
UNION ALL
SELECT layer, ts, value AS ms
FROM prometheus('${prom}',
        'sum by (layer) (rate(app_layer_duration_seconds_sum[${window:-1m}]))
         / on() group_left() sum(rate(django_http_requests_before_middlewares_total[${window:-1m}])) * 1000',
        '${start}', '${end}', '${step:-1m}', 'labels=layer');
