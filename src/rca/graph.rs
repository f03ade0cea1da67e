//! The call graph: callees per node, breadth-first depth and path from the
//! symptom, strongly connected components (Tarjan) and descendants. Every
//! walk keeps a visited set, so cycles terminate.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

/// Caller → callee adjacency (distinct callees in edge order, no self-loops).
#[derive(Debug, Clone, Default)]
pub struct Graph {
    callees: HashMap<String, Vec<String>>,
    /// Strongly connected component of every node named by an edge.
    component: HashMap<String, usize>,
}

/// Depth and BFS parent of every node reachable from a root.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    depth: HashMap<String, usize>,
    parent: HashMap<String, String>,
}

impl Graph {
    /// The graph of `edges`; self-loops and duplicate edges are ignored.
    pub fn new(edges: &[(String, String)]) -> Self {
        let mut callees: HashMap<String, Vec<String>> = HashMap::new();
        for (caller, callee) in edges {
            let list = callees.entry(caller.clone()).or_default();
            if caller != callee && !list.contains(callee) {
                list.push(callee.clone());
            }
        }
        let component = strongly_connected(&callees);
        Self { callees, component }
    }

    /// The direct callees of `node`.
    pub fn callees(&self, node: &str) -> &[String] {
        self.callees.get(node).map_or(&[], Vec::as_slice)
    }

    /// Whether `a` and `b` lie on a common cycle (or are the same node).
    pub fn same_component(&self, a: &str, b: &str) -> bool {
        match (self.component.get(a), self.component.get(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        }
    }

    /// Breadth-first from `root` over callee edges (callees in name order).
    pub fn reach(&self, root: &str) -> Reach {
        let mut reach = Reach::default();
        reach.depth.insert(root.to_string(), 0);
        let mut queue = VecDeque::from([root.to_string()]);
        while let Some(node) = queue.pop_front() {
            let mut next: Vec<&String> = self.callees(&node).iter().collect();
            next.sort();
            for callee in next {
                if !reach.depth.contains_key(callee) {
                    reach.depth.insert(callee.clone(), reach.depth[&node] + 1);
                    reach.parent.insert(callee.clone(), node.clone());
                    queue.push_back(callee.clone());
                }
            }
        }
        reach
    }

    /// Every node reachable from `node` through callee edges, `node`
    /// excluded, in name order (sums over them do not depend on hashing).
    pub fn descendants(&self, node: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::from([node.to_string()]);
        let mut stack = vec![node.to_string()];
        while let Some(u) = stack.pop() {
            for v in self.callees(&u) {
                if seen.insert(v.clone()) {
                    stack.push(v.clone());
                }
            }
        }
        seen.remove(node);
        seen
    }
}

impl Reach {
    /// Hops from the root; `None` when unreachable.
    pub fn depth(&self, node: &str) -> Option<usize> {
        self.depth.get(node).copied()
    }

    /// The nodes from the root to `node`; `None` when unreachable.
    pub fn path(&self, node: &str) -> Option<Vec<String>> {
        self.depth(node)?;
        let mut path = vec![node.to_string()];
        while let Some(parent) = self.parent.get(path.last().unwrap()) {
            path.push(parent.clone());
        }
        path.reverse();
        Some(path)
    }
}

/// Tarjan's strongly connected components, iteratively (no recursion depth
/// limit): a component id per node.
fn strongly_connected(adjacency: &HashMap<String, Vec<String>>) -> HashMap<String, usize> {
    let mut nodes: Vec<&String> = adjacency.keys().chain(adjacency.values().flatten()).collect();
    nodes.sort();
    nodes.dedup();
    let empty = Vec::new();
    let (mut index, mut low) = (HashMap::new(), HashMap::new());
    let (mut component, mut on_stack, mut stack) = (HashMap::new(), HashSet::new(), Vec::new());
    let (mut counter, mut next_component) = (0usize, 0usize);
    for root in nodes {
        if index.contains_key(root) {
            continue;
        }
        let mut work: Vec<(&String, usize)> = vec![(root, 0)];
        while let Some((v, from)) = work.pop() {
            if from == 0 {
                index.insert(v, counter);
                low.insert(v, counter);
                counter += 1;
                stack.push(v);
                on_stack.insert(v);
            }
            let neighbours = adjacency.get(v).unwrap_or(&empty);
            let mut descended = false;
            for (j, w) in neighbours.iter().enumerate().skip(from) {
                if !index.contains_key(w) {
                    work.push((v, j + 1));
                    work.push((w, 0));
                    descended = true;
                    break;
                } else if on_stack.contains(w) {
                    low.insert(v, low[v].min(index[w]));
                }
            }
            if descended {
                continue;
            }
            if low[v] == index[v] {
                while let Some(w) = stack.pop() {
                    on_stack.remove(w);
                    component.insert(w.clone(), next_component);
                    if w == v {
                        break;
                    }
                }
                next_component += 1;
            }
            if let Some(&(u, _)) = work.last() {
                low.insert(u, low[u].min(low[v]));
            }
        }
    }
    component
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &str)]) -> Graph {
        Graph::new(&edges.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>())
    }

    #[test]
    fn cycles_terminate_and_share_a_component() {
        let g = graph(&[("F", "A"), ("A", "B"), ("B", "A"), ("B", "C"), ("C", "C"), ("A", "B")]);
        assert_eq!(g.callees("A"), ["B"]);
        assert!(g.callees("C").is_empty());
        assert!(g.same_component("A", "B"));
        assert!(!g.same_component("F", "A") && !g.same_component("B", "C"));
        let reach = g.reach("F");
        assert_eq!(reach.depth("C"), Some(3));
        assert_eq!(reach.path("C").unwrap(), ["F", "A", "B", "C"]);
        assert_eq!(reach.path("X"), None);
        assert_eq!(g.descendants("A").into_iter().collect::<Vec<_>>(), ["B", "C"]);
    }
}
