-- Which service caused the symptom? For a folder with the tables
-- metrics(ts, node, metric, stat, value), graph(caller, callee) and
-- target(node, metric, stat) (one row: the symptom), candidates best first.
SELECT node, rank, score, harm, metric, stat, ref_median, inc_median, change, spread,
       volume, volume_w, graph_w, depth, n_callees, n_anom_callees, mirror_of, via_mirror, path,
       window_start, window_end
FROM rank_causes('metrics', 'graph', 'target')
ORDER BY rank;
