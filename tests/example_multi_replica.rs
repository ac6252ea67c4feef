//! The multi-replica example: two replicas on one queue run each delivery and each tick
//! once (the example checks itself and exits non-zero otherwise).

mod common;

#[test]
fn two_replicas_run_each_delivery_and_tick_once() {
    let stdout = common::run_example("multi-replica", &[]);
    assert!(
        stdout.contains("10 issues, each handled once: true"),
        "{stdout}"
    );
    assert!(stdout.contains("each run once: true"), "{stdout}");
    let redelivered = stdout
        .lines()
        .find(|l| l.contains("issue 1 redelivered to b"))
        .unwrap_or_default();
    assert!(
        redelivered.contains("202") && redelivered.contains("duplicate"),
        "{stdout}"
    );
}
