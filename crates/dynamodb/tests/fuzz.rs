//! The parser against hostile input: random bytes, random token soups, deep nesting and long
//! expressions. Each must give an answer, never a panic or a stack overflow.

use m2sec_dynamodb::expression::{parse_any, parse_condition, ExpressionAttributes, MAX_DEPTH};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

#[test]
fn random_characters() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let alphabet: Vec<char> = "ab_#:()[].,=<>+-! 0129éANDORNOTSETsize\"\t\n"
        .chars()
        .collect();
    for _ in 0..3000 {
        let len = rng.next() % 40;
        let s: String = (0..len)
            .map(|_| alphabet[(rng.next() % alphabet.len() as u64) as usize])
            .collect();
        let _ = parse_any(&s);
    }
}

#[test]
fn random_token_soup() {
    let mut rng = Rng(7);
    let tokens = [
        "a",
        "#n",
        ":v",
        "(",
        ")",
        "[0]",
        ".",
        ",",
        "=",
        "<>",
        "<",
        ">=",
        "+",
        "-",
        "AND",
        "OR",
        "NOT",
        "BETWEEN",
        "IN",
        "SET",
        "REMOVE",
        "ADD",
        "DELETE",
        "size(",
        "attribute_exists(",
        "begins_with(",
        "contains(",
        "list_append(",
        "if_not_exists(",
        "attribute_type(",
        "status",
        "pk",
        "sk",
        "[99999999999999999999999]",
    ];
    for _ in 0..5000 {
        let len = 1 + rng.next() % 15;
        let s: Vec<&str> = (0..len).map(|_| rng.pick(&tokens)).collect();
        let _ = parse_any(&s.join(" "));
    }
}

#[test]
fn random_bytes_as_lossy_text() {
    let mut rng = Rng(99);
    for _ in 0..2000 {
        let bytes: Vec<u8> = (0..rng.next() % 30).map(|_| rng.next() as u8).collect();
        let _ = parse_any(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    for depth in [MAX_DEPTH + 1, 200, 2000] {
        let parens = format!("{}a = b{}", "(".repeat(depth), ")".repeat(depth));
        let nots = format!("{}a = b", "NOT ".repeat(depth));
        let calls = format!("{}a{}", "size(".repeat(depth), ")".repeat(depth));
        for s in [parens, nots, calls] {
            for result in parse_any(&s) {
                assert!(result.is_err());
            }
        }
    }
    let unclosed = "(".repeat(100_000);
    for result in parse_any(&unclosed) {
        assert!(result.is_err());
    }
}

#[test]
fn long_expressions_are_refused_by_size() {
    let long = vec!["a = :v"; 2000].join(" AND ");
    let err = parse_condition(&long, &ExpressionAttributes::default()).unwrap_err();
    assert!(
        err.0.starts_with(
            "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size"
        ),
        "{err}"
    );
}

#[test]
fn nesting_within_the_limit_parses() {
    let attrs = ExpressionAttributes {
        values: [(
            ":v".to_string(),
            m2sec_dynamodb::item::AttributeValue::s("x"),
        )]
        .into_iter()
        .collect(),
        ..Default::default()
    };
    // Alternate parentheses with NOT so none is redundant.
    let s = format!("{}a = :v{}", "NOT (".repeat(40), ")".repeat(40));
    assert!(
        parse_condition(&s, &attrs).is_ok(),
        "{:?}",
        parse_condition(&s, &attrs)
    );
}
