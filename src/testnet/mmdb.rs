//! A small MaxMind DB (`.mmdb`) writer, so tests can build the offline geolocation
//! database they read instead of shipping one.
//!
//! It writes what the format's specification (<https://maxmind.github.io/MaxMind-DB/>)
//! describes, for the cases the tests need: an IPv6 search tree (IPv4 networks live under
//! `::/96`, as in GeoLite2 and DB-IP files) with 24-bit records, a data section of maps,
//! strings and unsigned integers, and the metadata section. Networks must not overlap.

use std::collections::BTreeMap;
use std::net::IpAddr;

/// A value of the data section.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(String),
    U16(u16),
    U32(u32),
    U64(u64),
    Map(BTreeMap<String, Value>),
    Array(Vec<Value>),
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_string())
    }
}

/// `{"en": name}`, the shape of GeoLite2's `names`.
fn names(en: &str) -> Value {
    Value::Map(BTreeMap::from([("en".to_string(), en.into())]))
}

/// A GeoLite2-City style record: country (ISO code and English name) and city.
pub fn city_record(iso_code: &str, country: &str, city: &str) -> Value {
    let mut m = BTreeMap::new();
    m.insert(
        "country".to_string(),
        Value::Map(BTreeMap::from([
            ("iso_code".to_string(), iso_code.into()),
            ("names".to_string(), names(country)),
        ])),
    );
    if !city.is_empty() {
        m.insert(
            "city".to_string(),
            Value::Map(BTreeMap::from([("names".to_string(), names(city))])),
        );
    }
    Value::Map(m)
}

/// Writes a database of `networks` (address, prefix length, record) with the given
/// `database_type` (e.g. `GeoLite2-City`).
pub fn write(networks: &[(IpAddr, u8, Value)], database_type: &str) -> Vec<u8> {
    // The search tree: node i has two records; 0 = empty until set.
    #[derive(Clone, Copy)]
    enum Rec {
        Empty,
        Node(usize),
        Data(usize),
    }
    let mut nodes: Vec<[Rec; 2]> = vec![[Rec::Empty, Rec::Empty]];
    let mut data = Vec::new();
    for (ip, prefix, value) in networks {
        let (bits, len): (u128, u8) = match ip {
            IpAddr::V4(v4) => (u128::from(u32::from(*v4)), 96 + prefix),
            IpAddr::V6(v6) => (u128::from(*v6), *prefix),
        };
        assert!((1..=128).contains(&len), "prefix out of range");
        let offset = data.len();
        encode(value, &mut data);
        let mut node = 0;
        for i in 0..len {
            let bit = ((bits >> (127 - i)) & 1) as usize;
            if i + 1 == len {
                assert!(matches!(nodes[node][bit], Rec::Empty), "networks overlap");
                nodes[node][bit] = Rec::Data(offset);
            } else {
                node = match nodes[node][bit] {
                    Rec::Node(n) => n,
                    Rec::Empty => {
                        nodes.push([Rec::Empty, Rec::Empty]);
                        let n = nodes.len() - 1;
                        nodes[node][bit] = Rec::Node(n);
                        n
                    }
                    Rec::Data(_) => panic!("networks overlap"),
                };
            }
        }
    }
    let count = nodes.len();
    let mut out = Vec::with_capacity(count * 6 + data.len() + 256);
    for node in &nodes {
        for rec in node {
            let v = match *rec {
                Rec::Empty => count,
                Rec::Node(n) => n,
                // Data pointers count from the end of the tree plus the 16-byte separator.
                Rec::Data(off) => count + 16 + off,
            };
            assert!(v < 1 << 24, "database too large for 24-bit records");
            out.extend_from_slice(&(v as u32).to_be_bytes()[1..]);
        }
    }
    out.extend_from_slice(&[0u8; 16]);
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
    let meta = Value::Map(BTreeMap::from([
        ("binary_format_major_version".to_string(), Value::U16(2)),
        ("binary_format_minor_version".to_string(), Value::U16(0)),
        ("build_epoch".to_string(), Value::U64(1_700_000_000)),
        ("database_type".to_string(), database_type.into()),
        (
            "description".to_string(),
            Value::Map(BTreeMap::from([(
                "en".to_string(),
                "peerscope test database".into(),
            )])),
        ),
        ("ip_version".to_string(), Value::U16(6)),
        ("languages".to_string(), Value::Array(vec!["en".into()])),
        ("node_count".to_string(), Value::U32(count as u32)),
        ("record_size".to_string(), Value::U16(24)),
    ]));
    encode(&meta, &mut out);
    out
}

/// The control byte(s) of a field: type (1..=7 inline, 8.. extended) and size.
fn control(kind: u8, size: usize, out: &mut Vec<u8>) {
    let (inline, ext) = if kind <= 7 {
        (kind, None)
    } else {
        (0, Some(kind - 7))
    };
    let (size_bits, extra): (u8, Vec<u8>) = if size < 29 {
        (size as u8, vec![])
    } else if size < 29 + 256 {
        (29, vec![(size - 29) as u8])
    } else if size < 285 + 65536 {
        (30, ((size - 285) as u16).to_be_bytes().to_vec())
    } else {
        (31, ((size - 65821) as u32).to_be_bytes()[1..].to_vec())
    };
    out.push((inline << 5) | size_bits);
    if let Some(e) = ext {
        out.push(e);
    }
    out.extend_from_slice(&extra);
}

/// Big-endian bytes of `v` without leading zeros (zero has none).
fn minimal(v: u64) -> Vec<u8> {
    let b = v.to_be_bytes();
    let first = b.iter().position(|x| *x != 0).unwrap_or(8);
    b[first..].to_vec()
}

fn encode(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Str(s) => {
            control(2, s.len(), out);
            out.extend_from_slice(s.as_bytes());
        }
        Value::U16(v) => {
            let b = minimal(u64::from(*v));
            control(5, b.len(), out);
            out.extend_from_slice(&b);
        }
        Value::U32(v) => {
            let b = minimal(u64::from(*v));
            control(6, b.len(), out);
            out.extend_from_slice(&b);
        }
        Value::U64(v) => {
            let b = minimal(*v);
            control(9, b.len(), out);
            out.extend_from_slice(&b);
        }
        Value::Map(m) => {
            control(7, m.len(), out);
            for (k, v) in m {
                encode(&Value::Str(k.clone()), out);
                encode(v, out);
            }
        }
        Value::Array(a) => {
            control(11, a.len(), out);
            for v in a {
                encode(v, out);
            }
        }
    }
}
