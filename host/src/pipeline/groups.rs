//! Which nodes share a thread: a pipeline's nodes cut into groups, each a
//! linear chain run by one [`GroupWorker`](super::worker::GroupWorker).
//!
//! Node `i` joins the group of its upstream `j` when `i` is fed by `j`
//! alone, `j` feeds `i` alone, neither node asks for a thread of its own
//! ([`Threading::Own`]) and the pipeline's [`Fuse`] allows the pair.
//! Fan-out, fan-in and the pipeline's input stay channels between threads.

use crate::factory::Runtime;
use crate::manifest::{Fuse, Pipeline, PipelineNode, Threading, Upstream};

/// Whether `fuse` puts neighbours `a` and `b` (a feeding b alone) on one
/// thread, on a machine with `cores` cores.
fn fused(fuse: Fuse, a: &PipelineNode, b: &PipelineNode, cores: usize) -> bool {
    if a.thread == Threading::Own || b.thread == Threading::Own {
        return false;
    }
    match fuse {
        Fuse::Always => true,
        Fuse::Never => false,
        Fuse::Auto => {
            cores <= 1
                || matches!(
                    (a.spec.runtime, b.spec.runtime),
                    (Runtime::Cpython, Runtime::Cpython) | (Runtime::Native, Runtime::Native)
                )
        }
    }
}

/// The groups, each a chain of node indices, upstream first; every node is
/// in exactly one, and groups come in the order of their first node.
pub(crate) fn thread_groups(pipeline: &Pipeline) -> Vec<Vec<usize>> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    groups_on(pipeline, cores)
}

fn groups_on(pipeline: &Pipeline, cores: usize) -> Vec<Vec<usize>> {
    let nodes = &pipeline.nodes;
    let mut consumers = vec![0usize; nodes.len()];
    for node in nodes {
        for up in &node.inputs {
            if let Upstream::Node(j) = *up {
                consumers[j] += 1;
            }
        }
    }
    let mut group_of = vec![usize::MAX; nodes.len()];
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let fused_into = match node.inputs.as_slice() {
            [Upstream::Node(j)] if consumers[*j] == 1 && fused(pipeline.fuse, &nodes[*j], node, cores) => {
                Some(group_of[*j])
            }
            _ => None,
        };
        match fused_into {
            Some(g) => {
                groups[g].push(i);
                group_of[i] = g;
            }
            None => {
                group_of[i] = groups.len();
                groups.push(vec![i]);
            }
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn groups(text: &str, cores: usize) -> Vec<Vec<usize>> {
        let mut pipeline = crate::manifest::parse(text, Path::new("/tmp/groups.toml")).expect("manifest");
        // The manifest's runtimes, as `--allow-unsandboxed` would let them be.
        for node in &mut pipeline.nodes {
            if node.spec.id.starts_with("native") {
                node.spec.runtime = Runtime::Native;
            }
        }
        groups_on(&pipeline, cores)
    }

    fn node(id: &str, extra: &str) -> String {
        format!("[[node]]\nid = \"{id}\"\nrust = \"pass-through\"\n{extra}\n")
    }

    #[test]
    fn fusing_follows_the_manifest_and_the_runtimes() {
        let sandboxed = [node("a", ""), node("b", ""), node("c", "")].concat();
        assert_eq!(groups(&sandboxed, 2), [vec![0], vec![1], vec![2]], "sandboxed nodes keep their threads");
        assert_eq!(groups(&sandboxed, 1), [vec![0, 1, 2]], "one core: everything fused");
        assert_eq!(groups(&format!("fuse = \"always\"\n{sandboxed}"), 2), [vec![0, 1, 2]]);
        let native = [node("native-a", ""), node("native-b", ""), node("c", ""), node("native-d", "")].concat();
        assert_eq!(groups(&native, 2), [vec![0, 1], vec![2], vec![3]]);
        assert_eq!(groups(&format!("fuse = \"never\"\n{native}"), 2), [vec![0], vec![1], vec![2], vec![3]]);
        assert_eq!(groups(&format!("fuse = \"never\"\n{sandboxed}"), 1), [vec![0], vec![1], vec![2]]);
    }

    #[test]
    fn a_node_on_its_own_thread_is_never_fused() {
        let own = [node("a", ""), node("b", "thread = \"own\""), node("c", "")].concat();
        assert_eq!(groups(&format!("fuse = \"always\"\n{own}"), 2), [vec![0], vec![1], vec![2]]);
        let last = [node("a", ""), node("b", ""), node("c", "thread = \"own\"")].concat();
        assert_eq!(groups(&format!("fuse = \"always\"\n{last}"), 2), [vec![0, 1], vec![2]]);
    }

    #[test]
    fn fan_out_and_fan_in_stay_on_separate_threads() {
        // a -> b, a -> c, (b, c) -> d, d -> e
        let text = [
            node("a", ""),
            node("b", "inputs = [\"a\"]"),
            node("c", "inputs = [\"a\"]"),
            node("d", "inputs = [\"b\", \"c\"]"),
            node("e", "inputs = [\"d\"]"),
        ]
        .concat();
        assert_eq!(groups(&format!("fuse = \"always\"\n{text}"), 2), [vec![0], vec![1], vec![2], vec![3, 4]]);
    }
}
