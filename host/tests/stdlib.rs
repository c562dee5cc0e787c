//! The standard library beyond importing it: time zones from the tz database
//! the Python runtimes embed, `tempfile` in the sandbox's private and bounded
//! `/tmp`, and modules whose output must be CPython's (the compat checks).

use std::path::PathBuf;

use crate::common::*;
use nodehost::tools::compat::judge;
use nodehost::{Limit, NodeFailure, NodeSpec, Runtime, SandboxPolicy, Value, on_node_thread};

/// The compat checks as a node on `runtime`.
fn checks(runtime: Runtime) -> NodeSpec {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("compat/stdlib_checks.py");
    python(file, "StdlibCheck", Value::Null, runtime).with_policy(nodehost::tools::compat::checks_policy())
}

/// What the compat checks `names` give on `runtime`.
fn check_outputs(runtime: Runtime, names: &[&str]) -> Vec<String> {
    let inputs = names.iter().map(|&n| Value::from(n)).collect();
    let outputs = run_node(&checks(runtime), inputs).unwrap().outputs();
    outputs.iter().map(|v| v.as_str().unwrap_or_default().to_owned()).collect()
}

#[test]
fn zoneinfo_converts_across_dst_as_cpython_does_on_every_runtime() {
    // CPython's answers, written out: either side of both 2024 transitions
    // in Paris, New York's repeated hour (both folds) and a time it skips.
    let answers = [
        "'2024-03-31T01:59:59+01:00', '2024-03-31T03:00:00+02:00'",
        "'2024-10-27T02:59:59+02:00', '2024-10-27T02:00:00+01:00'",
        "'-1 day, 20:00:00', '-1 day, 19:00:00', '2024-03-10T07:30:00+00:00'",
        "['CET', 'CEST'], 32400.0, True, 'ZoneInfoNotFoundError'",
    ];
    // CPython in the sandbox too, where it is built: its zones come from
    // the same embedded tzdata wheel as RustPython's.
    let wasm_cpython = Runtime::WasmCpython.unavailable_reason().is_none().then_some(Runtime::WasmCpython);
    for runtime in PYTHON_RUNTIMES.into_iter().chain(wasm_cpython) {
        let got = &check_outputs(runtime, &["zoneinfo"])[0];
        for answer in answers {
            assert!(got.contains(answer), "{runtime}: no {answer} in {got}");
        }
        assert_eq!(judge("zoneinfo", got), Ok(()), "{runtime}");
    }
}

#[test]
fn the_sandbox_behaves_as_cpython_for_files_xml_and_locale() {
    let names =
        ["tempfile", "pathlib", "shutil", "glob", "xml_etree", "xml_dom_minidom", "locale", "zipfile", "tarfile"];
    let outputs = check_outputs(Runtime::Wasm, &names);
    let failures: Vec<String> =
        names.iter().zip(&outputs).filter_map(|(n, got)| judge(n, got).err().map(|e| format!("{n}: {e}"))).collect();
    assert!(failures.is_empty(), "in the sandbox:\n{}", failures.join("\n"));
}

/// What WASI leaves out that nodes use: `os.chmod` (`shutil.copy` sets the
/// mode; WASI has no permission bits, but a missing file is still an
/// error) and, in the CPython sandbox, `hashlib.pbkdf2_hmac` (CPython takes
/// it from OpenSSL, which its WASI build has not).
#[test]
fn shutil_copy_chmod_and_pbkdf2_behave_as_cpython_in_both_sandboxes() {
    let names = ["shutil", "hashlib"];
    let wasm_cpython = Runtime::WasmCpython.unavailable_reason().is_none().then_some(Runtime::WasmCpython);
    for runtime in std::iter::once(Runtime::Wasm).chain(wasm_cpython) {
        let outputs = check_outputs(runtime, &names);
        for (name, got) in names.iter().zip(&outputs) {
            assert_eq!(judge(name, got), Ok(()), "{runtime}: {name}");
        }
        assert!(outputs[0].ends_with("'data', 'FileNotFoundError']"), "{runtime}: {}", outputs[0]);
    }
}

fn scratch_node(id: &str, policy: SandboxPolicy) -> NodeSpec {
    let mut spec = python(test_python("scratch.py"), "Scratch", Value::Null, Runtime::Wasm).with_policy(policy);
    spec.id = id.into();
    spec
}

/// `nodehost-tmp-*` directories in the host's temporary directory.
fn host_tmp_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("nodehost-tmp-"))
        .map(|e| e.path())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn tmp_is_private_bounded_and_removed_with_the_node() {
    // Its own TMPDIR, so the host directories counted are this test's.
    let tmpdir = scratch_dir("tmpbound");
    let env = [("TMPDIR", tmpdir.path().to_str().unwrap())];
    if !in_child_process(module_path!(), "tmp_is_private_bounded_and_removed_with_the_node", &env) {
        return;
    }
    const MIB: i64 = 1 << 20;
    let policy = SandboxPolicy { tmp: 2 << 20, ..SandboxPolicy::default() };
    let engine = engine();
    on_node_thread(move || {
        let call = |node: &mut Box<dyn nodehost::Node>, cmd: Value| {
            let mut out = Vec::new();
            node.process(cmd, &mut out).map(|()| out.pop().unwrap_or(Value::Null))
        };
        let mut bystander = scratch_node("bystander", policy.clone()).create(&engine).unwrap();
        let mut writer = scratch_node("writer", policy.clone()).create(&engine).unwrap();
        assert_eq!(host_tmp_dirs().len(), 2, "one host directory per instance");
        assert_eq!(call(&mut bystander, json(r#"["where"]"#)).unwrap(), Value::from("/tmp"));
        assert_eq!(call(&mut bystander, json(r#"["append", "keep", 1000]"#)).unwrap(), Value::Int(1000));
        // Private: the other instance's /tmp does not have the file.
        assert_eq!(call(&mut writer, json(r#"["size", "keep"]"#)).unwrap(), Value::Null);
        // tempfile works, and space freed is space to use again.
        for _ in 0..4 {
            assert_eq!(call(&mut writer, json(r#"["temp", 1048576]"#)).unwrap(), Value::Int(MIB));
        }
        assert_eq!(call(&mut writer, json(r#"["append", "big", 1048576]"#)).unwrap(), Value::Int(MIB));
        // Past the bound: the node fails with the limit, and loses its
        // instance, and its directory goes with it.
        let failure = call(&mut writer, json(r#"["append", "big", 1572864]"#)).unwrap_err();
        assert!(matches!(failure, NodeFailure::LimitExceeded(Limit::Tmp { limit }) if limit == 2 << 20), "{failure:?}");
        assert!(failure.is_fatal() && failure.to_string().contains("/tmp"), "{failure}");
        drop(writer);
        assert_eq!(host_tmp_dirs().len(), 1, "the failed node's /tmp outlived it");
        // The other node is unaffected, its file still there.
        assert_eq!(call(&mut bystander, json(r#"["size", "keep"]"#)).unwrap(), Value::Int(1000));
        assert_eq!(call(&mut bystander, json(r#"["temp", 1048576]"#)).unwrap(), Value::Int(MIB));
        // A sparse file counts by its length; so do many empty files.
        for cmd in [r#"["truncate", "sparse", 1073741824]"#, r#"["files", 1000]"#] {
            let mut node = scratch_node("sparse", policy.clone()).create(&engine).unwrap();
            let failure = call(&mut node, json(cmd)).unwrap_err();
            assert!(matches!(failure, NodeFailure::LimitExceeded(Limit::Tmp { .. })), "{cmd}: {failure:?}");
        }
        drop(bystander);
        assert_eq!(host_tmp_dirs(), Vec::<PathBuf>::new(), "a node's /tmp outlived it");
        Ok::<(), nodehost::Error>(())
    })
    .unwrap();
}

#[test]
fn without_tmp_tempfile_fails_as_on_a_system_with_none() {
    let policy = SandboxPolicy { tmp: 0, ..SandboxPolicy::default() };
    let run = run_node(&scratch_node("no-tmp", policy), vec![json(r#"["temp", 10]"#)]).unwrap();
    let Err(NodeFailure::Guest(e)) = &run.items[0] else { panic!("{:?}", run.items[0]) };
    assert!(e.message.contains("No usable temporary directory"), "{}", e.message);
}

#[test]
fn os_uname_and_times_answer_in_both_sandboxes() {
    let mut runtimes = vec![Runtime::Wasm];
    if Runtime::WasmCpython.is_available() {
        runtimes.push(Runtime::WasmCpython);
    }
    for runtime in runtimes {
        let spec = python(test_python("real_data.py"), "OsInfo", Value::Null, runtime);
        let got = run_node(&spec, vec![Value::Null]).unwrap().outputs();
        let want = jsons(
            r#"[["posix.uname_result(sysname='wasi', nodename='(none)', release='0.0.0', version='0.0.0', machine='wasm32')",
                "wasi", "wasm32", true, "times_result", 5, true, 0.0, true]]"#,
        );
        assert_eq!(got, want, "{runtime}");
    }
}

/// `threading` behaves as CPython's on both RustPython runtimes: a lock
/// takes `blocking=`, and `Condition`, `Event` and `queue` work (RustPython's
/// own RLock lacked what `Condition` needs).
#[test]
fn threading_and_queue_behave_as_cpython_on_rustpython() {
    for runtime in [Runtime::Wasm, Runtime::NativeRustpython] {
        let names = ["threading", "queue"];
        let outputs = check_outputs(runtime, &names);
        for (name, got) in names.iter().zip(&outputs) {
            assert_eq!(judge(name, got), Ok(()), "{runtime}: {name}");
        }
    }
    // A lock held while another asks for it: RustPython's own said True.
    // Native RustPython, built without threads, runs a thread to its end
    // when started, as the sandbox does: a consumer waiting for its
    // producer is a deadlock raised at once there too, not a wait until
    // the call's deadline.
    let run = |runtime| {
        let spec = python(test_python("real_data.py"), "Threads", Value::Null, runtime);
        run_node(&spec, vec![Value::Null]).unwrap().outputs()
    };
    let want = run(Runtime::Cpython);
    assert_eq!(want, jsons(r#"[[[false, false, true, true], "joined"]]"#));
    assert_eq!(run(Runtime::Wasm), want);
    let started = std::time::Instant::now();
    assert_eq!(run(Runtime::NativeRustpython), want);
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
}

/// `concurrent.futures`' thread pool gives CPython's results where a thread
/// cannot run beside its starter (both sandboxes, native RustPython): calls
/// run as they are submitted, exceptions and a failed initializer land in
/// the futures. Its workers used to wait on a queue that nothing could
/// fill, so the second batch of calls waited until the node's deadline.
#[test]
fn concurrent_futures_thread_pool_gives_cpython_results_on_every_runtime() {
    let wasm_cpython = Runtime::WasmCpython.unavailable_reason().is_none().then_some(Runtime::WasmCpython);
    for runtime in PYTHON_RUNTIMES.into_iter().chain(wasm_cpython) {
        let got = &check_outputs(runtime, &["concurrent_futures"])[0];
        assert_eq!(judge("concurrent_futures", got), Ok(()), "{runtime}");
    }
}

/// Texts CPython 3.11 writes where RustPython 0.6 wrote 3.12-3.14's or its
/// own, in the sandbox: `repr()` of an `OrderedDict` (its pairs) and of a
/// long regex match (cut at 50 characters) and of an `OrderedDict`'s
/// views (`odict_keys(['a'])`), `str()` of a `mappingproxy`, a year below
/// 1000 in `date.strftime` (`5`, not `0005`), `json`'s refusals of a
/// malformed document or a float `allow_nan=False` forbids, and
/// `struct.pack`'s of an int out of range or too few items.
#[test]
fn reprs_dates_and_json_errors_read_as_cpython_3_11_in_the_sandbox() {
    let names = ["reprs", "datetime", "json_decoder", "json_encoder", "struct_refusals"];
    let outputs = check_outputs(Runtime::Wasm, &names);
    for (name, got) in names.iter().zip(&outputs) {
        assert_eq!(judge(name, got), Ok(()), "{name}");
    }
}

/// A regex match's `pos` and `endpos` are the bounds its search was given,
/// in the sandbox as on CPython, from every way of making one (`match`,
/// `search`, `fullmatch`, `finditer`, a scanner, a `re.sub` function): they
/// were the match's own span.
#[test]
fn regex_match_bounds_read_as_cpython_in_the_sandbox() {
    let got = &check_outputs(Runtime::Wasm, &["re_bounds"])[0];
    assert_eq!(judge("re_bounds", got), Ok(()));
}

/// An array's native `l` and `L` items hold 64-bit values in the sandbox as
/// on CPython (wasm32's C `long` is 4 bytes: `array('l', [2**40])` was
/// refused), and an int an array cannot hold is refused in CPython 3.11's
/// words however it arrives, not in words naming Rust's types.
#[test]
fn array_items_are_held_and_refused_as_on_cpython_in_the_sandbox() {
    let got = &check_outputs(Runtime::Wasm, &["array_items"])[0];
    assert_eq!(judge("array_items", got), Ok(()));
}

/// Recursion in native code counts against the recursion limit as in
/// CPython 3.11, in the sandbox: `repr`, `str`, `json.dumps`,
/// `pickle.dumps` and `==` of a list nested 5,000 deep, and `repr` and
/// `json.dumps` of a dict nested as deep, and `json.loads` of an array or
/// an object nested as deep (naming which), raise `RecursionError` with
/// CPython's words (they printed, and at 100,000 deep overflowed the wasm
/// stack), while 200 deep works.
#[test]
fn native_recursion_raises_recursion_error_as_cpython_3_11_in_the_sandbox() {
    let got = &check_outputs(Runtime::Wasm, &["recursion"])[0];
    assert_eq!(judge("recursion", got), Ok(()));
}

/// `decimal` on both RustPython runtimes (their `decimal` is `_pydecimal`)
/// as CPython's C module shows it: a context's signals in the C module's
/// order (`traps=[InvalidOperation, DivisionByZero, Overflow]`, where
/// `_pydecimal` gave `[DivisionByZero, Overflow, InvalidOperation]`),
/// `int()` and `round()` of a NaN or an infinity refused in its words, and
/// the 64-bit `MAX_PREC` (wasm32 gave 425000000).
#[test]
fn decimal_contexts_and_refusals_read_as_cpython_on_every_python_runtime() {
    for runtime in PYTHON_RUNTIMES {
        let got = &check_outputs(runtime, &["decimal_texts"])[0];
        assert_eq!(judge("decimal_texts", got), Ok(()), "{runtime}");
    }
}

/// XML namespaces reach Python as libexpat reports them, in the sandbox:
/// `minidom` keeps prefixes and `xmlns` declarations (`toxml()` lost them
/// all), `iterparse` gives `start-ns` and `end-ns` events, and `xml.sax`
/// sees qualified names and declarations without namespace processing and
/// prefix mappings with it.
#[test]
fn xml_namespaces_reach_minidom_etree_and_sax_as_on_cpython_in_the_sandbox() {
    let run = |runtime| {
        let spec = python(test_python("real_data.py"), "XmlNamespaces", Value::Null, runtime);
        run_node(&spec, vec![Value::Null]).unwrap().outputs()
    };
    let want = run(Runtime::Cpython);
    let text = want[0].as_str().unwrap_or_default();
    assert!(text.contains(r#"<p:a xmlns="urn:d" xmlns:p="urn:p""#), "{text}");
    assert_eq!(run(Runtime::Wasm), want);
}
