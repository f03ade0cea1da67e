-- Which view's response time moved with the app's response time?
--
-- First difference of each view's mean response time and of the app's,
-- joined on ts; Pearson r, p-value and n per view, strongest first.
WITH app_diff AS (
    SELECT ts, diff(response_ms) OVER (ORDER BY ts) AS d_app
    FROM app
),
view_diff AS (
    SELECT view, ts, diff(response_ms) OVER (PARTITION BY view ORDER BY ts) AS d_ms
    FROM views
)
SELECT view,
       pearson_r(d_ms, d_app) AS r,
       pearson_p(d_ms, d_app) AS p,
       pearson_n(d_ms, d_app) AS n
FROM view_diff JOIN app_diff USING (ts)
GROUP BY view
ORDER BY r DESC NULLS LAST, view
LIMIT 20;
