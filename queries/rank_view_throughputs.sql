-- Which view's traffic surge moved with the app's response time?
--
-- First difference of each view's throughput (requests per minute) and of the
-- app's mean response time, joined on ts; Pearson r, p-value and n per view,
-- strongest first. A rarely used view whose bursts slow the app shows up here.
WITH app_diff AS (
    SELECT ts, diff(response_ms) OVER (ORDER BY ts) AS d_app
    FROM app
),
view_diff AS (
    SELECT view, ts, diff(throughput_rpm) OVER (PARTITION BY view ORDER BY ts) AS d_rpm
    FROM views
)
SELECT view,
       pearson_r(d_rpm, d_app) AS r,
       pearson_p(d_rpm, d_app) AS p,
       pearson_n(d_rpm, d_app) AS n
FROM view_diff JOIN app_diff USING (ts)
GROUP BY view
ORDER BY r DESC NULLS LAST, view
LIMIT 20;
