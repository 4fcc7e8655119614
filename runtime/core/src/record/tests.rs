use serde_json::json;

#[derive(Debug, Default, PartialEq)]
struct Rec {
    id: Option<String>,
    n: Option<i64>,
    tags: Option<Vec<String>>,
    nested: Option<Box<Rec>>,
}

crate::impl_record!(Rec {
    id => "id",
    n => "n",
    tags => "tags" skip_nulls,
    nested => "nested",
});

#[test]
fn fields_unknown_keys_nulls_and_nesting() {
    let r: Rec = serde_json::from_value(json!({
        "id": "a", "extra": {"deep": [1, 2]}, "n": null,
        "tags": ["x", null, "y"], "nested": {"id": "b", "n": 2}
    }))
    .unwrap();
    assert_eq!(
        r,
        Rec {
            id: Some("a".into()),
            n: None,
            tags: Some(vec!["x".into(), "y".into()]),
            nested: Some(Box::new(Rec {
                id: Some("b".into()),
                n: Some(2),
                ..Rec::default()
            })),
        }
    );
    // Absent fields keep their default; a repeated key keeps the last value.
    let r: Rec = serde_json::from_str(r#"{"id": "1", "id": "2"}"#).unwrap();
    assert_eq!(r.id.as_deref(), Some("2"));
    assert_eq!(r.tags, None);
    // A null list is `None`, not an error.
    let r: Rec = serde_json::from_value(json!({"tags": null})).unwrap();
    assert_eq!(r.tags, None);
    // Encoding writes the fields that are set, under their wire names.
    let r: Rec = serde_json::from_value(json!({"n": 3, "nested": {"id": "x"}})).unwrap();
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        json!({"n": 3, "nested": {"id": "x"}})
    );
}

#[test]
fn wrong_types_name_the_field_path() {
    let text = r#"{"id": "a", "nested": {"n": "not a number"}}"#;
    let e = crate::decode::decode_str_for::<Rec>("e", "a", "", text).unwrap_err();
    assert!(
        matches!(&e, crate::Error::Decode { path, .. } if path == "nested.n"),
        "{e:?}"
    );
    let e = serde_json::from_str::<Rec>("[1, 2]").unwrap_err();
    assert!(e.to_string().contains("a `Rec` object"), "{e}");
}

mod erased {
    //! Every field shape of the erased walk: values, `null`s, wrong types (message and path),
    //! unknown and repeated keys, nesting, boxes, lists with and without `skip_nulls`, maps.

    use std::collections::BTreeMap;

    use serde::Deserialize;
    use serde_json::{Map, Value, json};

    use crate::record::SkipNulls;

    crate::string_enum! {
        /// A test enum.
        pub enum Color {
            Red => "red",
            Blue => "blue",
        }
    }

    #[derive(Debug, Default, Clone, PartialEq)]
    pub struct Inner {
        pub a: Option<i64>,
        pub next: Option<Box<Inner>>,
    }

    crate::impl_record!(Inner { a => "a", next => "next" });

    #[derive(Debug, Default, Clone, PartialEq)]
    pub struct All {
        pub s: Option<String>,
        pub i: Option<i64>,
        pub f: Option<f64>,
        pub b: Option<bool>,
        pub v: Option<Value>,
        pub o: Option<Map<String, Value>>,
        pub e: Option<Color>,
        pub r: Option<Inner>,
        pub bx: Option<Box<Inner>>,
        pub vs: Option<Vec<String>>,
        pub vv: Option<Vec<Value>>,
        pub vr: Option<Vec<Inner>>,
        pub ve: Option<Vec<Color>>,
        pub vi: Option<Vec<i64>>,
        pub vvs: Option<Vec<Vec<String>>>,
        pub vo: Option<Vec<Map<String, Value>>>,
        pub m: Option<BTreeMap<String, i64>>,
        pub mr: Option<BTreeMap<String, Inner>>,
        pub mv: Option<BTreeMap<String, Vec<String>>>,
    }

    crate::impl_record!(All {
        s => "s",
        i => "i",
        f => "f",
        b => "b",
        v => "v",
        o => "o",
        e => "e",
        r => "r",
        bx => "bx",
        vs => "vs" skip_nulls,
        vv => "vv",
        vr => "vr" skip_nulls,
        ve => "ve" skip_nulls,
        vi => "vi" skip_nulls,
        vvs => "vvs" skip_nulls,
        vo => "vo" skip_nulls,
        m => "m",
        mr => "mr",
        mv => "mv",
    });

    /// The same shapes through serde's own impls (what the walk must agree with).
    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default)]
    struct Derived {
        s: Option<String>,
        i: Option<i64>,
        f: Option<f64>,
        b: Option<bool>,
        v: Option<Value>,
        o: Option<Map<String, Value>>,
        e: Option<String>,
        r: Option<DerivedInner>,
        bx: Option<Box<DerivedInner>>,
        vs: SkipNulls<String>,
        vv: Option<Vec<Value>>,
        vr: SkipNulls<DerivedInner>,
        ve: SkipNulls<String>,
        vi: SkipNulls<i64>,
        vvs: SkipNulls<Vec<String>>,
        vo: SkipNulls<Map<String, Value>>,
        m: Option<BTreeMap<String, i64>>,
        mr: Option<BTreeMap<String, DerivedInner>>,
        mv: Option<BTreeMap<String, Vec<String>>>,
    }

    impl<T> Default for SkipNulls<T> {
        fn default() -> Self {
            SkipNulls(None)
        }
    }
    impl<T: std::fmt::Debug> std::fmt::Debug for SkipNulls<T> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            self.0.fmt(f)
        }
    }
    impl<T: PartialEq> PartialEq for SkipNulls<T> {
        fn eq(&self, other: &Self) -> bool {
            self.0 == other.0
        }
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default)]
    struct DerivedInner {
        a: Option<i64>,
        next: Option<Box<DerivedInner>>,
    }

    fn inner(a: i64) -> Inner {
        Inner {
            a: Some(a),
            next: None,
        }
    }

    #[test]
    fn every_shape_decodes() {
        let text = r#"{
            "s": "x", "i": -3, "f": 1.5, "b": true, "v": [1, {"k": null}], "o": {"k": [1]},
            "e": "blue", "r": {"a": 1, "zz": [null]}, "bx": {"a": 2, "next": {"a": 3}},
            "vs": ["a", null, "b"], "vv": [null, 1], "vr": [{"a": 4}, null],
            "ve": ["red", null, "green"], "vi": [1, null, 2], "vvs": [["p"], null, []],
            "vo": [{"x": 1}, null], "m": {"one": 1, "two": 2}, "mr": {"k": {"a": 5}},
            "mv": {"k": ["q"]}, "unknown": {"deep": [1, {"a": "b"}]}
        }"#;
        let want = All {
            s: Some("x".into()),
            i: Some(-3),
            f: Some(1.5),
            b: Some(true),
            v: Some(json!([1, {"k": null}])),
            o: json!({"k": [1]}).as_object().cloned(),
            e: Some(Color::from(Color::VALUES[1])),
            r: Some(inner(1)),
            bx: Some(Box::new(Inner {
                a: Some(2),
                next: Some(Box::new(inner(3))),
            })),
            vs: Some(vec!["a".into(), "b".into()]),
            vv: Some(vec![Value::Null, json!(1)]),
            vr: Some(vec![inner(4)]),
            ve: Some(vec![Color::Red, Color::Unknown("green".into())]),
            vi: Some(vec![1, 2]),
            vvs: Some(vec![vec!["p".into()], vec![]]),
            vo: Some(vec![
                json!({"x": 1}).as_object().cloned().unwrap_or_default(),
            ]),
            m: Some([("one".to_string(), 1), ("two".to_string(), 2)].into()),
            mr: Some([("k".to_string(), inner(5))].into()),
            mv: Some([("k".to_string(), vec!["q".to_string()])].into()),
        };
        let from_str: All = serde_json::from_str(text).unwrap();
        assert_eq!(from_str, want);
        // Any deserializer: a `Value`, owned or borrowed.
        let value: Value = serde_json::from_str(text).unwrap();
        assert_eq!(All::deserialize(&value).unwrap(), want);
        assert_eq!(serde_json::from_value::<All>(value).unwrap(), want);
        // Encoding and decoding again round-trips.
        let again: All = serde_json::from_value(serde_json::to_value(&want).unwrap()).unwrap();
        assert_eq!(again, want);
    }

    #[test]
    fn every_shape_encodes() {
        let all = All {
            s: Some("x".into()),
            i: Some(-3),
            f: Some(1.5),
            b: Some(false),
            v: Some(json!([1, {"k": null}])),
            o: json!({"k": [1]}).as_object().cloned(),
            e: Some(Color::Unknown("teal".into())),
            r: Some(inner(1)),
            bx: Some(Box::new(Inner {
                a: None,
                next: Some(Box::new(inner(3))),
            })),
            vr: Some(vec![inner(4), Inner::default()]),
            ve: Some(vec![Color::Red]),
            vvs: Some(vec![vec!["p".into()], vec![]]),
            m: Some([("two".to_string(), 2), ("one".to_string(), 1)].into()),
            mr: Some([("k".to_string(), inner(5))].into()),
            mv: Some(Default::default()),
            ..All::default()
        };
        // The fields that are `Some`, in declaration order, under their wire names; maps in key
        // order; nested records, lists and boxes the same way.
        let want = r#"{"s":"x","i":-3,"f":1.5,"b":false,"v":[1,{"k":null}],"o":{"k":[1]},"e":"teal","r":{"a":1},"bx":{"next":{"a":3}},"vr":[{"a":4},{}],"ve":["red"],"vvs":[["p"],[]],"m":{"one":1,"two":2},"mr":{"k":{"a":5}},"mv":{}}"#;
        assert_eq!(serde_json::to_string(&all).unwrap(), want);
        // Another serializer (serde_json's value serializer) sees the same struct.
        assert_eq!(serde_json::to_value(&all).unwrap().to_string(), want);
        assert_eq!(serde_json::to_string(&All::default()).unwrap(), "{}");
    }

    #[test]
    fn nulls_are_none_everywhere() {
        let keys = [
            "s", "i", "f", "b", "v", "o", "e", "r", "bx", "vs", "vv", "vr", "ve", "vi", "vvs",
            "vo", "m", "mr", "mv",
        ];
        let nulls: Map<String, Value> = keys.iter().map(|k| (k.to_string(), Value::Null)).collect();
        let text = Value::Object(nulls).to_string();
        assert_eq!(serde_json::from_str::<All>(&text).unwrap(), All::default());
        assert_eq!(serde_json::from_str::<All>("{}").unwrap(), All::default());
        // Empty containers stay present.
        let r: All = serde_json::from_str(r#"{"vs": [], "vv": [], "m": {}, "r": {}}"#).unwrap();
        assert_eq!(r.vs, Some(vec![]));
        assert_eq!(r.vv, Some(vec![]));
        assert_eq!(r.m, Some(BTreeMap::new()));
        assert_eq!(r.r, Some(Inner::default()));
    }

    #[test]
    fn repeated_keys_keep_the_last_value() {
        let r: All = serde_json::from_str(
            r#"{"s": "1", "r": {"a": 1}, "s": "2", "r": {"next": {}}, "vs": ["a"], "vs": null,
                "m": {"k": 1, "k": 2}}"#,
        )
        .unwrap();
        assert_eq!(r.s.as_deref(), Some("2"));
        // A repeated record key decodes a fresh value, as serde does.
        assert_eq!(
            r.r,
            Some(Inner {
                a: None,
                next: Some(Box::default())
            })
        );
        assert_eq!(r.vs, None);
        assert_eq!(r.m, Some([("k".to_string(), 2)].into()));
    }

    /// Wrong types: the walk fails exactly where and how serde's own impls fail.
    #[test]
    fn wrong_types_fail_like_serde() {
        let cases = [
            r#"{"s": 1}"#,
            r#"{"i": "x"}"#,
            r#"{"i": 1.5}"#,
            r#"{"f": "1"}"#,
            r#"{"b": 0}"#,
            r#"{"o": [1]}"#,
            r#"{"e": 3}"#,
            r#"{"r": "x"}"#,
            r#"{"r": {"a": "x"}}"#,
            r#"{"bx": {"next": {"a": true}}}"#,
            r#"{"bx": 7}"#,
            r#"{"vs": "x"}"#,
            r#"{"vs": [1]}"#,
            r#"{"vv": {"a": 1}}"#,
            r#"{"vr": [{"a": 1}, {"a": "2"}]}"#,
            r#"{"vr": [3]}"#,
            r#"{"ve": [1]}"#,
            r#"{"vi": [1, "x"]}"#,
            r#"{"vvs": [[null]]}"#,
            r#"{"vvs": ["a"]}"#,
            r#"{"vo": [1]}"#,
            r#"{"m": {"k": "x"}}"#,
            r#"{"m": [1]}"#,
            r#"{"mr": {"k": {"a": []}}}"#,
            r#"{"mv": {"k": [null]}}"#,
            r#"{"s": "a" "i": 1}"#,
            r#"{"s": "a", }"#,
            r#"{"s": "a""#,
            r#"{"vs": ["a", ]}"#,
            r#""x""#,
            "null",
        ];
        for text in cases {
            let walked = serde_json::from_str::<All>(text).unwrap_err().to_string();
            let derived = serde_json::from_str::<Derived>(text)
                .unwrap_err()
                .to_string();
            assert_eq!(walked, renamed(&derived), "{text}");
            // Through a `Value` (no positions) the messages agree too.
            if let Ok(value) = serde_json::from_str::<Value>(text) {
                let walked = All::deserialize(&value).unwrap_err().to_string();
                let derived = Derived::deserialize(&value).unwrap_err().to_string();
                assert_eq!(walked, renamed(&derived), "{text}");
            }
        }
        // Unlike the derive, the walk does not read an array positionally as a record.
        for text in [r#"[1]"#, r#"{"r": [1]}"#] {
            let e = serde_json::from_str::<All>(text).unwrap_err().to_string();
            assert!(e.starts_with("invalid type: sequence, expected a `"), "{e}");
        }
    }

    /// The derive names its structs; the walk names the records.
    fn renamed(derived: &str) -> String {
        derived
            .replace("struct DerivedInner", "a `Inner` object")
            .replace("struct Derived", "a `All` object")
    }

    /// The decode error's path is computed from serde_json's position, which the walk leaves
    /// where serde's own impls leave it.
    #[test]
    fn decode_error_paths() {
        let cases = [
            (r#"{"s": "a", "i": "x"}"#, "p.i"),
            (r#"{"r": {"a": "x"}}"#, "p.r.a"),
            (
                r#"{"bx": {"next": {"next": {"a": []}}}}"#,
                "p.bx.next.next.a",
            ),
            (r#"{"vs": ["a", null, 3]}"#, "p.vs[2]"),
            (r#"{"vr": [null, {"a": 1}, {"a": "x"}]}"#, "p.vr[2].a"),
            (r#"{"vvs": [["a"], ["b", 1]]}"#, "p.vvs[1][1]"),
            (r#"{"mr": {"k": {"a": false}}}"#, "p.mr.k.a"),
            (r#"{"m": {"k": "v"}}"#, "p.m.k"),
            (r#"{"vv": 1}"#, "p.vv"),
            (r#"{"x": [1, 2], "e": {}}"#, "p.e"),
        ];
        for (text, path) in cases {
            let e = crate::decode::decode_str_for::<All>("e", "a", "p", text).unwrap_err();
            assert!(
                matches!(&e, crate::Error::Decode { path: p, .. } if p == path),
                "{text}: {e:?}"
            );
        }
        let e = crate::decode::decode_str_for::<All>("e", "a", "p", r#"{"s": 1}"#).unwrap_err();
        assert!(
            matches!(&e, crate::Error::Decode { message, .. }
                if message == "invalid type: integer `1`, expected a string"),
            "{e:?}"
        );
        let e = crate::decode::decode_str_for::<All>("e", "a", "", r#"{"vs": 1}"#).unwrap_err();
        assert!(
            matches!(&e, crate::Error::Decode { message, .. }
                if message == "invalid type: integer `1`, expected a list or null"),
            "{e:?}"
        );
    }

    /// Trailing input after a record is rejected as before.
    #[test]
    fn trailing_input_fails() {
        assert!(serde_json::from_str::<All>(r#"{"s": "a"} x"#).is_err());
        assert!(crate::decode::decode_str_for::<All>("e", "a", "", "{} {}").is_err());
    }
}

#[test]
fn from_str_into_overwrites_present_fields() {
    let mut r = Rec {
        id: Some("keep".into()),
        n: Some(1),
        ..Rec::default()
    };
    crate::record::from_str_into(r#"{"n": 2, "tags": ["t", null]}"#, &mut r).unwrap();
    assert_eq!(r.id.as_deref(), Some("keep"));
    assert_eq!(r.n, Some(2));
    assert_eq!(r.tags, Some(vec!["t".to_string()]));
    assert!(crate::record::from_str_into("{} 1", &mut r).is_err());
    let e = crate::record::from_str_into("[]", &mut r).unwrap_err();
    assert!(e.to_string().contains("a `Rec` object"), "{e}");
}

/// A hand-written `Field` that reads its value twice gets an error, not a panic.
#[test]
fn reading_a_value_twice_is_an_error() {
    use crate::record::{Failed, Field, ValueSource};

    #[derive(Debug, Default, serde::Serialize)]
    struct Twice;
    impl Field for Twice {
        fn view(&self) -> crate::record::ValueView<'_> {
            crate::record::ValueView::Bool(true)
        }
        fn decode(source: &mut dyn ValueSource) -> Result<Self, Failed> {
            source.skip()?;
            source.skip()?;
            Ok(Twice)
        }
    }
    #[derive(Debug, Default)]
    struct Holder {
        t: Option<Twice>,
    }
    crate::impl_record!(Holder { t => "t" });

    let e = serde_json::from_str::<Holder>(r#"{"t": 1}"#).unwrap_err();
    assert!(e.to_string().starts_with("a value was read twice"), "{e}");
    // `null` is `None` without reading further.
    assert!(
        serde_json::from_str::<Holder>(r#"{"t": null}"#)
            .unwrap()
            .t
            .is_none()
    );
}

#[test]
fn debug_reads_like_the_derive() {
    use serde_json::Value;
    use std::collections::BTreeMap;

    #[derive(Default)]
    struct Shown {
        id: Option<String>,
        r#type: Option<i64>,
        tags: Option<Vec<String>>,
        inner: Option<Box<Shown>>,
        m: Option<BTreeMap<String, f64>>,
        v: Option<Value>,
        ok: Option<bool>,
    }
    crate::impl_record!(debug Shown {
        id => "id", r#type => "type", tags => "tags", inner => "inner", m => "m", v => "v",
        ok => "ok",
    });
    #[derive(Debug, Default)]
    #[allow(dead_code)] // read by the derive only
    struct Shown2 {
        id: Option<String>,
        r#type: Option<i64>,
        tags: Option<Vec<String>>,
        inner: Option<Box<Shown2>>,
        m: Option<BTreeMap<String, f64>>,
        v: Option<Value>,
        ok: Option<bool>,
    }
    let ours = Shown {
        id: Some("a\"b".into()),
        r#type: Some(-2),
        tags: Some(vec!["x".into(), "y".into()]),
        inner: Some(Box::new(Shown {
            ok: Some(false),
            ..Shown::default()
        })),
        m: Some([("k".to_string(), 1.5)].into()),
        v: Some(json!({"z": [null]})),
        ok: None,
    };
    let derived = Shown2 {
        id: Some("a\"b".into()),
        r#type: Some(-2),
        tags: Some(vec!["x".into(), "y".into()]),
        inner: Some(Box::new(Shown2 {
            ok: Some(false),
            ..Shown2::default()
        })),
        m: Some([("k".to_string(), 1.5)].into()),
        v: Some(json!({"z": [null]})),
        ok: None,
    };
    let derived_text = format!("{derived:?}").replace("Shown2", "Shown");
    assert_eq!(format!("{ours:?}"), derived_text);
    let derived_pretty = format!("{derived:#?}").replace("Shown2", "Shown");
    assert_eq!(format!("{ours:#?}"), derived_pretty);
}
