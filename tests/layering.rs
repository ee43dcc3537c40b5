//! Layering rules the compiler does not enforce, checked on the sources: the API edge
//! (`src/api/`) sees the engine handle, the store and domain types only, never a `libp2p`
//! or `discv5` type or path. Comments, doc comments and string literals are not code, so
//! they may name the crates.

use std::path::{Path, PathBuf};

/// Crates `src/api/` must not name.
const FORBIDDEN: [&str; 2] = ["libp2p", "discv5"];

/// The code of a Rust source: comments replaced by a space, string, byte-string, raw-string
/// and char literals replaced by `""`, line breaks kept (so line numbers stay right).
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    // Copies the line breaks of `b[from..to]` (the rest of a comment or literal is dropped).
    let keep_lines = |out: &mut String, from: usize, to: usize| {
        for _ in b[from..to].iter().filter(|c| **c == b'\n') {
            out.push('\n');
        }
    };
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            let end = rest
                .iter()
                .position(|c| *c == b'\n')
                .map_or(b.len(), |p| i + p);
            out.push(' ');
            i = end;
        } else if rest.starts_with(b"/*") {
            // Block comments nest.
            let (mut depth, mut j) = (0usize, i);
            while j < b.len() {
                if b[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if b[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            out.push(' ');
            keep_lines(&mut out, i, j);
            i = j;
        } else if let Some(end) = raw_string_end(b, i) {
            out.push_str("\"\"");
            keep_lines(&mut out, i, end);
            i = end;
        } else if rest.starts_with(b"\"") || rest.starts_with(b"b\"") {
            let mut j = i + if rest[0] == b'b' { 2 } else { 1 };
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(b.len());
            out.push_str("\"\"");
            keep_lines(&mut out, i, end);
            i = end;
        } else if let Some(end) = char_literal_end(src, i) {
            out.push_str("''");
            i = end;
        } else {
            // Identifiers are copied whole, so `br` inside `abr"` is not taken for a prefix.
            let word = rest
                .iter()
                .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
                .unwrap_or(rest.len());
            let n = word.max(1);
            let n = (i + n..=b.len())
                .find(|k| src.is_char_boundary(*k))
                .unwrap_or(b.len())
                - i;
            out.push_str(&src[i..i + n]);
            i += n;
        }
    }
    out
}

/// The end of a raw string (`r"…"`, `r#"…"#`, `br#"…"#`) starting at `i`, if one does.
fn raw_string_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    if b.get(j) == Some(&b'b') {
        j += 1;
    }
    if b.get(j) != Some(&b'r') {
        return None;
    }
    j += 1;
    let hashes = b[j..].iter().take_while(|c| **c == b'#').count();
    j += hashes;
    if b.get(j) != Some(&b'"') {
        return None;
    }
    let close: Vec<u8> = std::iter::once(b'"')
        .chain(std::iter::repeat_n(b'#', hashes))
        .collect();
    let body = j + 1;
    let at = b[body..]
        .windows(close.len())
        .position(|w| w == close.as_slice())?;
    Some(body + at + close.len())
}

/// The end of a char or byte literal (`'a'`, `'\n'`, `'\''`, `b'x'`, `'\u{1F600}'`)
/// starting at `i`; `None` for a lifetime (`'a`, `'static`).
fn char_literal_end(src: &str, i: usize) -> Option<usize> {
    let b = src.as_bytes();
    let q = if b.get(i) == Some(&b'b') { i + 1 } else { i };
    if b.get(q) != Some(&b'\'') {
        return None;
    }
    if b.get(q + 1) == Some(&b'\\') {
        let close = b[q + 2..].iter().position(|c| *c == b'\'')?;
        return Some(q + 2 + close + 1);
    }
    // Exactly one character, then the closing quote.
    let c = src.get(q + 1..)?.chars().next()?;
    let close = q + 1 + c.len_utf8();
    (b.get(close) == Some(&b'\'')).then_some(close + 1)
}

/// Every use of a forbidden crate's name as an identifier in `code`, as (line, text).
fn forbidden_uses(code: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in code.lines().enumerate() {
        let words = line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
        if words.into_iter().any(|w| FORBIDDEN.contains(&w)) {
            found.push((n + 1, line.trim().to_string()));
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_api_never_names_libp2p_or_discv5() {
    let api = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
    let mut files = Vec::new();
    rust_files(&api, &mut files);
    assert!(
        files.iter().any(|f| f.ends_with("mod.rs")),
        "no sources found under {}",
        api.display()
    );
    let mut offences = Vec::new();
    for file in &files {
        let src = std::fs::read_to_string(file).unwrap();
        for (line, text) in forbidden_uses(&code_only(&src)) {
            offences.push(format!("{}:{line}: {text}", file.display()));
        }
    }
    assert!(
        offences.is_empty(),
        "src/api/ names libp2p or discv5 types:\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_scan_finds_paths_and_imports_but_not_comments_or_strings() {
    let flagged = |src: &str| forbidden_uses(&code_only(src));
    // Code that names the crates, in every shape a use can take.
    for src in [
        "use libp2p::PeerId;",
        "fn f(p: libp2p::PeerId) {}",
        "let e: ::discv5::Enr = x;",
        "use discv5;",
        "type T = Vec<discv5::enr::NodeId>;",
        "use crate::{a, discv5::{X}};",
        "let s = \"no\"; let p: libp2p::Multiaddr = s.parse()?;",
        "let c = '\"'; use libp2p::PeerId;",
        "fn f<'a>(x: &'a str) -> libp2p::PeerId { todo!() }",
        "fn f<'a, 'b>(x: &'a str, y: &'b str) -> libp2p::PeerId { todo!() }",
        "let c = '\u{e9}'; let d = 'é'; use discv5::Enr;",
    ] {
        assert_eq!(flagged(src).len(), 1, "{src}");
    }
    // Comments, docs, strings and look-alike identifiers are not uses.
    for src in [
        "// libp2p::PeerId",
        "/// Converts a discv5 record.",
        "//! never touches discv5 or libp2p types",
        "/* libp2p /* nested */ discv5 */",
        "let s = \"discv5 failed\";",
        "let s = r#\"libp2p::PeerId \"quoted\"\"#;",
        "let s = br\"discv5\";",
        "let s = \"escaped \\\" libp2p\";",
        "let c = '\\''; // libp2p",
        "let discv5_addr = 1; let libp2p_peer = 2;",
        "#[doc = \"libp2p\"] struct S;",
    ] {
        assert!(flagged(src).is_empty(), "{src}: {:?}", flagged(src));
    }
    // Line numbers survive multi-line comments and strings.
    let src = "/* a\nb */\nlet s = \"x\ny\";\nuse libp2p::PeerId;\n";
    assert_eq!(flagged(src), vec![(5, "use libp2p::PeerId;".to_string())]);
}
