//! Generated `peerscope.v1` types, the encoded file descriptor set served by reflection, and
//! the proto3 JSON form of any `peerscope.v1` message.

/// The `peerscope.v1` package (messages, `crawler_server`, `crawler_client`).
#[allow(clippy::all, missing_docs)]
pub mod pb {
    tonic::include_proto!("peerscope.v1");

    /// Encoded `FileDescriptorSet` of `proto/peerscope/v1/peerscope.proto`.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/peerscope_descriptor.bin"));
}

/// The `peerscope.v1.Crawler` server as served: the messages of [`pb`], except that
/// `StreamPeerEvents` sends [`crate::api::wire::EncodedEvent`]s (same wire format, encoded
/// once per event instead of once per subscriber).
#[allow(clippy::all, missing_docs)]
pub mod server {
    include!(concat!(env!("OUT_DIR"), "/wire/peerscope.v1.rs"));
}

use std::sync::OnceLock;

use prost_reflect::{DescriptorPool, DynamicMessage, SerializeOptions};

/// The descriptors of `peerscope.v1` (and the well-known types it uses), with comments.
pub fn descriptor_pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(pb::FILE_DESCRIPTOR_SET)
            .expect("the descriptor set compiled into the binary decodes")
    })
}

/// `message` as proto3 JSON, for scripts: proto field names (`node_id`), every field present
/// (defaults included), enums by name, 64-bit integers as JSON numbers, durations as `"1.5s"`
/// and timestamps as RFC 3339 strings.
///
/// `full_name` is the message's proto name, e.g. `peerscope.v1.Crawl`.
pub fn to_json<M: prost::Message>(message: &M, full_name: &str) -> serde_json::Value {
    let desc = descriptor_pool()
        .get_message_by_name(full_name)
        .unwrap_or_else(|| panic!("{full_name} is not a peerscope.v1 message"));
    let dynamic = DynamicMessage::decode(desc, message.encode_to_vec().as_slice())
        .expect("a message re-decodes with its own descriptor");
    let options = SerializeOptions::new()
        .stringify_64_bit_integers(false)
        .use_proto_field_name(true)
        .skip_default_fields(false);
    dynamic
        .serialize_with_options(serde_json::value::Serializer, &options)
        .expect("a proto message serializes to JSON")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_uses_field_names_numbers_and_well_known_forms() {
        let crawl = pb::Crawl {
            id: "7".into(),
            state: pb::CrawlState::Finished as i32,
            progress: Some(pb::CrawlProgress {
                discovered: 12,
                elapsed: Some(prost_types::Duration {
                    seconds: 1,
                    nanos: 500_000_000,
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let v = to_json(&crawl, "peerscope.v1.Crawl");
        assert_eq!(v["id"], "7");
        assert_eq!(v["state"], "CRAWL_STATE_FINISHED");
        assert_eq!(v["progress"]["discovered"], 12);
        assert_eq!(v["progress"]["elapsed"], "1.500s");
        // Defaults are present, so scripts need no fallbacks.
        assert_eq!(v["progress"]["queued"], 0);
        assert_eq!(v["name"], "");
    }
}

/// The API reference in Markdown, generated from the proto's comments: the service's RPCs,
/// then every message with its fields and every enum with its values. `docs/API.md` is this
/// text (a test keeps it current).
pub fn api_reference() -> String {
    use prost_types::field_descriptor_proto::{Label, Type};
    use std::collections::HashMap;
    use std::fmt::Write;

    let set = <prost_types::FileDescriptorSet as prost::Message>::decode(pb::FILE_DESCRIPTOR_SET)
        .expect("the descriptor set compiled into the binary decodes");
    let file = set
        .file
        .iter()
        .find(|f| f.package() == "peerscope.v1")
        .expect("the set holds peerscope.v1");
    let comments: HashMap<Vec<i32>, String> = file
        .source_code_info
        .iter()
        .flat_map(|i| &i.location)
        .filter_map(|l| {
            let c = l.leading_comments.as_deref()?;
            let text = c
                .lines()
                .map(|line| line.strip_prefix(' ').unwrap_or(line).trim_end())
                .collect::<Vec<_>>()
                .join("\n");
            Some((l.path.clone(), text.trim().to_string()))
        })
        .collect();
    let comment = |path: &[i32]| comments.get(path).cloned().unwrap_or_default();
    // A comment inside a table cell: one line, pipes escaped.
    let cell = |text: String| {
        text.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .replace('|', "\\|")
    };
    let anchor = |name: &str| name.to_lowercase().replace('.', "");
    let type_link = |type_name: &str| -> String {
        match type_name.strip_prefix(".peerscope.v1.") {
            Some(local) => format!("[{local}](#{})", anchor(local)),
            None => format!("`{}`", type_name.trim_start_matches('.')),
        }
    };

    let mut out = String::new();
    let _ = writeln!(
        out,
        "# API reference: `peerscope.v1`\n\n\
         Generated from the comments in [`proto/peerscope/v1/peerscope.proto`](../proto/peerscope/v1/peerscope.proto)\n\
         (`PEERSCOPE_WRITE_API_DOCS=1 cargo test --lib api_reference` rewrites it). The server also serves\n\
         `grpc.health.v1.Health` and server reflection (v1 and v1alpha)."
    );

    for (si, service) in file.service.iter().enumerate() {
        let _ = writeln!(out, "\n## Service `{}`\n", service.name());
        let c = comment(&[6, si as i32]);
        if !c.is_empty() {
            let _ = writeln!(out, "{c}\n");
        }
        for (mi, m) in service.method.iter().enumerate() {
            let stream = |s: bool| if s { "stream " } else { "" };
            let _ = writeln!(
                out,
                "### `{}`\n\n`rpc {}({}{}) returns ({}{})`: request {}, response {}\n",
                m.name(),
                m.name(),
                stream(m.client_streaming()),
                m.input_type().trim_start_matches(".peerscope.v1."),
                stream(m.server_streaming()),
                m.output_type().trim_start_matches(".peerscope.v1."),
                type_link(m.input_type()),
                type_link(m.output_type()),
            );
            let c = comment(&[6, si as i32, 2, mi as i32]);
            if !c.is_empty() {
                let _ = writeln!(out, "{c}\n");
            }
        }
    }

    fn messages<'a>(
        prefix: &str,
        path: Vec<i32>,
        list: &'a [prost_types::DescriptorProto],
        tag: i32,
        out: &mut Vec<(String, Vec<i32>, &'a prost_types::DescriptorProto)>,
    ) {
        for (i, m) in list.iter().enumerate() {
            let name = format!("{prefix}{}", m.name());
            let mut p = path.clone();
            p.extend([tag, i as i32]);
            if m.options.as_ref().and_then(|o| o.map_entry) == Some(true) {
                continue;
            }
            messages(&format!("{name}."), p.clone(), &m.nested_type, 3, out);
            out.push((name, p, m));
        }
    }
    let mut all = Vec::new();
    messages("", vec![], &file.message_type, 4, &mut all);
    all.sort_by(|a, b| a.0.cmp(&b.0));

    let _ = writeln!(out, "\n## Messages");
    for (name, path, m) in &all {
        let _ = writeln!(out, "\n### {name}\n");
        let c = comment(path);
        if !c.is_empty() {
            let _ = writeln!(out, "{c}\n");
        }
        if m.field.is_empty() {
            let _ = writeln!(out, "No fields.");
            continue;
        }
        let _ = writeln!(out, "| # | field | type | description |\n|---|---|---|---|");
        for (fi, f) in m.field.iter().enumerate() {
            let base = |f: &prost_types::FieldDescriptorProto| match f.r#type() {
                Type::Message | Type::Enum => type_link(f.type_name()),
                t => format!(
                    "`{}`",
                    t.as_str_name().trim_start_matches("TYPE_").to_lowercase()
                ),
            };
            let map_entry = m.nested_type.iter().find(|n| {
                n.options.as_ref().and_then(|o| o.map_entry) == Some(true)
                    && f.type_name().ends_with(&format!(".{}", n.name()))
            });
            let ty = if let Some(entry) = map_entry {
                format!("map<{}, {}>", base(&entry.field[0]), base(&entry.field[1]))
            } else if f.label() == Label::Repeated {
                format!("repeated {}", base(f))
            } else if f.proto3_optional() {
                format!("optional {}", base(f))
            } else if let Some(o) = f.oneof_index {
                format!("{} (oneof `{}`)", base(f), m.oneof_decl[o as usize].name())
            } else {
                base(f)
            };
            let mut fp = path.clone();
            fp.extend([2, fi as i32]);
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} |",
                f.number(),
                f.name(),
                ty,
                cell(comment(&fp))
            );
        }
    }

    let mut enums = Vec::new();
    for (i, e) in file.enum_type.iter().enumerate() {
        enums.push((e.name().to_string(), vec![5, i as i32], e));
    }
    for (name, path, m) in &all {
        for (i, e) in m.enum_type.iter().enumerate() {
            let mut p = path.clone();
            p.extend([4, i as i32]);
            enums.push((format!("{name}.{}", e.name()), p, e));
        }
    }
    enums.sort_by(|a, b| a.0.cmp(&b.0));
    let _ = writeln!(out, "\n## Enums");
    for (name, path, e) in &enums {
        let _ = writeln!(out, "\n### {name}\n");
        let c = comment(path);
        if !c.is_empty() {
            let _ = writeln!(out, "{c}\n");
        }
        let _ = writeln!(out, "| value | name | description |\n|---|---|---|");
        for (vi, v) in e.value.iter().enumerate() {
            let mut vp = path.clone();
            vp.extend([2, vi as i32]);
            let _ = writeln!(
                out,
                "| {} | `{}` | {} |",
                v.number(),
                v.name(),
                cell(comment(&vp))
            );
        }
    }
    out
}

#[cfg(test)]
mod reference_tests {
    #[test]
    fn api_reference_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/API.md");
        let text = super::api_reference();
        for rpc in ["StartCrawl", "StreamPeerEvents", "GetNetworkStats"] {
            assert!(text.contains(&format!("### `{rpc}`")), "{rpc} missing");
        }
        // Comments make it through: a sentence from the proto.
        assert!(text.contains("after_sequence"));
        if std::env::var_os("PEERSCOPE_WRITE_API_DOCS").is_some() {
            std::fs::create_dir_all(concat!(env!("CARGO_MANIFEST_DIR"), "/docs")).unwrap();
            std::fs::write(path, &text).unwrap();
        }
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            on_disk == text,
            "docs/API.md is out of date with the proto: run \
             PEERSCOPE_WRITE_API_DOCS=1 cargo test --lib api_reference"
        );
    }
}
