-- The seed's three questions in one report, with honest statistics:
-- every series is first-differenced, correlated with the app's response
-- time, and ranked by its Benjamini-Hochberg q-value (false discovery rate
-- across all series of the question), then |r|. best_lag > 0 means the
-- series moved that many minutes before the app did.

-- 1. Which layer?
SELECT series AS layer, r, q, n, ci_low, ci_high, spearman_r, best_lag
FROM rank_correlations('layers', 'layer', 'ms', 'app', 'response_ms')
WHERE q < 0.05;

-- 2. Which view's response time?
SELECT series AS view, r, q, n, ci_low, ci_high, spearman_r, best_lag
FROM rank_correlations('views', 'view', 'response_ms', 'app', 'response_ms')
WHERE q < 0.05;

-- 3. Which view's traffic? (raw p < 0.05 flags many views by chance; q does not)
SELECT series AS view, r, p, q, n, best_lag
FROM rank_correlations('views', 'view', 'throughput_rpm', 'app', 'response_ms')
WHERE q < 0.05;
