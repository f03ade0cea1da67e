-- Which service caused the symptom? For a folder holding the tables
-- metrics(ts, node, metric, stat, value), graph(caller, callee) and
-- target(node, metric, stat) (one row: the symptom): the candidates, best first,
-- with the evidence behind each score (score = harm * volume_w * graph_w;
-- SELECT * shows every column, see the README's "A real incident").
SELECT node, rank, score, harm, metric, stat, ref_median, inc_median, spread,
       volume, volume_w, graph_w, depth, n_anom_callees, mirror_of, path
FROM rank_causes('metrics', 'graph', 'target')
ORDER BY rank;
