//! ConditionExpression and FilterExpression: every operator and function, precedence, and the
//! service's messages for what it refuses.

mod common;

use common::{attrs, item, no_attrs};
use m2sec_dynamodb::expression::{parse_condition, parse_filter, ExpressionAttributes};
use m2sec_dynamodb::item::Item;
use serde_json::json;

fn sample() -> Item {
    item(json!({
        "pk": {"S": "user#1"},
        "n": {"N": "5"},
        "s": {"S": "hello world"},
        "b": {"B": "AAECAw=="},
        "t": {"BOOL": true},
        "z": {"NULL": true},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2.5"]},
        "bs": {"BS": ["AQ=="]},
        "l": {"L": [{"S": "x"}, {"N": "7"}, {"M": {"deep": {"S": "yes"}}}]},
        "m": {"M": {"inr": {"M": {"v": {"N": "10"}}}, "lst": {"L": [{"N": "1"}, {"N": "2"}]}}},
        "vacant": {"S": ""}
    }))
}

fn values() -> ExpressionAttributes {
    attrs(
        json!({"#s": "s", "#status": "status", "#n": "n"}),
        json!({
            ":five": {"N": "5.0"}, ":four": {"N": "4"}, ":six": {"N": "6"}, ":ten": {"N": "10"},
            ":hello": {"S": "hello"}, ":world": {"S": "world"}, ":a": {"S": "a"}, ":x": {"S": "x"},
            ":one": {"N": "1"}, ":seven": {"N": "7"}, ":bin": {"B": "AAE="}, ":b1": {"B": "AQ=="},
            ":S": {"S": "S"}, ":N": {"S": "N"}, ":SS": {"S": "SS"}, ":NULL": {"S": "NULL"}, ":M": {"S": "M"},
            ":three": {"N": "3"}, ":t": {"BOOL": true}, ":list": {"L": [{"S": "x"}]},
            ":nsv": {"N": "2.50"}, ":deep": {"M": {"deep": {"S": "yes"}}}
        }),
    )
}

fn eval(expression: &str) -> bool {
    let parsed =
        parse_condition(expression, &values()).unwrap_or_else(|e| panic!("{expression}: {e}"));
    parsed.evaluate(&sample())
}

fn error(expression: &str, attrs: &ExpressionAttributes) -> String {
    parse_condition(expression, attrs).expect_err(expression).0
}

#[test]
fn comparators() {
    for (expression, expected) in [
        ("n = :five", true),
        ("n <> :five", false),
        ("n < :six", true),
        ("n <= :five", true),
        ("n > :four", true),
        ("n >= :six", false),
        ("s > :hello", true),
        ("s < :world", true),
        ("b > :bin", true),
        (":five = n", true),
        ("n = :hello", false),
        ("n <> :hello", true),
        ("n < :hello", false),
        ("absent = :five", false),
        ("absent <> :five", true),
        ("absent < :five", false),
        ("l[1] = :seven", true),
        ("m.inr.v = :ten", true),
        ("m.lst[1] > :one", true),
        ("l[2] = :deep", true),
        ("#s <> pk", true),
        ("n < #s", false),
    ] {
        assert_eq!(eval(expression), expected, "{expression}");
    }
}

#[test]
fn between_and_in() {
    assert!(eval("n BETWEEN :four AND :six"));
    assert!(eval("n BETWEEN :five AND :five"));
    assert!(!eval("n BETWEEN :six AND :ten"));
    assert!(!eval("absent BETWEEN :four AND :six"));
    assert!(!eval("s BETWEEN :four AND :six"));
    assert!(eval("n IN (:one, :five)"));
    assert!(!eval("n IN (:one, :six)"));
    assert!(!eval("absent IN (:one)"));
    assert!(eval("s IN (:hello, s)"));
}

#[test]
fn functions() {
    for (expression, expected) in [
        ("attribute_exists(pk)", true),
        ("attribute_exists(absent)", false),
        ("attribute_exists(m.inr.v)", true),
        ("attribute_exists(l[5])", false),
        ("attribute_not_exists(absent)", true),
        ("attribute_not_exists(l[0])", false),
        ("attribute_type(n, :N)", true),
        ("attribute_type(ss, :SS)", true),
        ("attribute_type(z, :NULL)", true),
        ("attribute_type(m, :M)", true),
        ("attribute_type(n, :S)", false),
        ("attribute_type(absent, :S)", false),
        ("begins_with(s, :hello)", true),
        ("begins_with(s, :world)", false),
        ("begins_with(b, :bin)", true),
        ("begins_with(n, :hello)", false),
        ("contains(s, :world)", true),
        ("contains(ss, :a)", true),
        ("contains(ss, :x)", false),
        ("contains(ns, :nsv)", true),
        ("contains(bs, :b1)", true),
        ("contains(b, :bin)", true),
        ("contains(l, :x)", true),
        ("contains(l, :seven)", true),
        ("contains(l, :deep)", true),
        ("contains(n, :five)", false),
        ("size(s) = :ten", false),
        ("size(s) > :ten", true),
        ("size(ss) = :one", false),
        ("size(l) = :three", true),
        ("size(m) < :three", true),
        ("size(b) = :four", true),
        ("size(absent) = :one", false),
        ("size(n) = :one", false),
        ("size(vacant) < :one", true),
    ] {
        assert_eq!(eval(expression), expected, "{expression}");
    }
}

#[test]
fn logic_and_precedence() {
    assert!(eval("n = :five AND s = :hello OR pk <> s"));
    assert!(eval("NOT n = :six"));
    assert!(!eval("NOT n = :five"));
    // AND binds tighter than OR: true OR (false AND false).
    assert!(eval("n = :five OR n = :six AND n = :four"));
    assert!(!eval("(n = :five OR n = :six) AND n = :four"));
    // NOT binds tighter than AND.
    assert!(!eval("NOT n = :five AND n = :six"));
    assert!(eval("NOT (n = :five AND n = :six)"));
    assert!(eval("not n = :six and n = :five"));
    assert!(eval("(attribute_exists(pk)) AND (attribute_exists(s))"));
    assert!(!eval("n = :five AND s = :hello"));
    assert!(eval("(n) = :five"));
    assert!(eval("n = (:five)"));
    assert!(eval("(attribute_exists(pk) AND (attribute_exists(s)))"));
    assert!(eval("NOT NOT attribute_exists(pk)"));
    assert!(eval("((n = :five AND n = :five) AND n = :five)"));
    // BETWEEN's AND is its own.
    assert!(eval("n BETWEEN :four AND :six AND begins_with(s, :hello)"));
}

#[test]
fn filter_uses_its_own_name() {
    assert_eq!(
        parse_filter("", &no_attrs()).unwrap_err().0,
        "Invalid FilterExpression: The expression can not be empty;"
    );
    assert_eq!(
        parse_filter("#absent = :v", &attrs(json!({}), json!({":v": {"S": "x"}}))).unwrap_err().0,
        "Invalid FilterExpression: An expression attribute name used in the document path is not defined; attribute name: #absent"
    );
}

#[test]
fn syntax_errors() {
    let a = no_attrs();
    for (expression, message) in [
        ("", "Invalid ConditionExpression: The expression can not be empty;"),
        ("a-b", "Invalid ConditionExpression: Syntax error; token: \"-\", near: \"a-b\""),
        ("!!", "Invalid ConditionExpression: Syntax error; token: \"!\", near: \"!!\""),
        ("a", "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"a\""),
        ("a =", "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"=\""),
        ("contains()", "Invalid ConditionExpression: Syntax error; token: \")\", near: \"()\""),
        ("a AND b", "Invalid ConditionExpression: Syntax error; token: \"AND\", near: \"a AND b\""),
        ("tenantAgent:abc123-x", "Invalid ConditionExpression: Syntax error; token: \":abc123\", near: \"tenantAgent:abc123-\""),
        ("hits : incr", "Invalid ConditionExpression: Syntax error; token: \":\", near: \"hits : incr\""),
        ("(a = a", "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"a\""),
        ("a[x] = b", "Invalid ConditionExpression: Syntax error; token: \"x\", near: \"[x]\""),
        ("a = b c", "Invalid ConditionExpression: Syntax error; token: \"c\", near: \"b c\""),
        ("a IN b", "Invalid ConditionExpression: Syntax error; token: \"b\", near: \"IN b\""),
    ] {
        assert_eq!(error(expression, &a), message, "{expression}");
    }
}

#[test]
fn semantic_errors() {
    let v = values();
    for (expression, message) in [
        ("((n = :five))", "The expression has redundant parentheses;"),
        ("((n)) = :five", "The expression has redundant parentheses;"),
        ("n = ((:five))", "The expression has redundant parentheses;"),
        ("foo(n) = :five", "Invalid function name; function: foo"),
        ("foo(n)", "Invalid function name; function: foo"),
        ("size(s)", "The function is not allowed to be used this way in an expression; function: size"),
        ("attribute_exists(s) = :five", "The function is not allowed to be used this way in an expression; function: attribute_exists"),
        ("status = :five", "Attribute name is a reserved keyword; reserved keyword: status"),
        ("m.Size = :five", "Attribute name is a reserved keyword; reserved keyword: Size"),
        ("#nope = :five", "An expression attribute name used in the document path is not defined; attribute name: #nope"),
        ("n = :nope", "An expression attribute value used in expression is not defined; attribute value: :nope"),
        ("begins_with(s)", "Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 1"),
        ("attribute_exists(s, n)", "Incorrect number of operands for operator or function; operator or function: attribute_exists, number of operands: 2"),
        ("s = s", "The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [s]"),
        ("contains(m.lst[1], m.lst[1])", "The first operand must be distinct from the remaining operands for this operator or function; operator: contains, first operand: [m, lst, [1]]"),
        ("attribute_exists(:five)", "Operator or function requires a document path; operator or function: attribute_exists"),
        ("begins_with(s, :five)", "Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"),
        ("size(:five) = :one", "Incorrect operand type for operator or function; operator or function: size, operand type: N"),
        ("attribute_type(s, :five)", "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: N"),
        ("attribute_type(s, :hello)", "Invalid attribute type name found; type: hello, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}"),
        ("n BETWEEN :six AND :four", "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:6}, upper bound operand: AttributeValue: {N:4}"),
        ("n BETWEEN :six AND :hello", "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:6}, upper bound operand: AttributeValue: {S:hello}"),
    ] {
        assert_eq!(error(expression, &v), format!("Invalid ConditionExpression: {message}"), "{expression}");
    }
}

#[test]
fn error_order() {
    let v = values();
    // Redundant parentheses come before an unknown function, which comes before reserved words…
    assert_eq!(
        error("((foo(status)))", &v),
        "Invalid ConditionExpression: The expression has redundant parentheses;"
    );
    assert_eq!(
        error("foo(status)", &v),
        "Invalid ConditionExpression: Invalid function name; function: foo"
    );
    // …which come before undefined placeholders.
    assert_eq!(error("status = :nope", &v), "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status");
    // The first of one kind wins.
    assert_eq!(
        error("#a = :b AND #c = :d", &v),
        "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #a"
    );
}

#[test]
fn in_operand_limit() {
    let mut names = serde_json::Map::new();
    names.insert(":v".into(), json!({"N": "1"}));
    let a = attrs(json!({}), serde_json::Value::Object(names));
    let list = |n: usize| vec![":v"; n].join(", ");
    assert!(parse_condition(&format!("a IN ({})", list(100)), &a).is_ok());
    assert_eq!(
        error(&format!("a IN ({})", list(101)), &a),
        "Invalid ConditionExpression: The IN operator is provided with too many operands; number of operands: 101"
    );
}

#[test]
fn usage_reports_placeholders_and_attributes() {
    let parsed = parse_condition(
        "#s = :hello AND m.inr.v > :one AND size(l[0]) > :one",
        &values(),
    )
    .unwrap();
    assert_eq!(parsed.usage.names.iter().collect::<Vec<_>>(), ["#s"]);
    assert_eq!(
        parsed.usage.values.iter().collect::<Vec<_>>(),
        [":hello", ":one"]
    );
    assert_eq!(
        parsed.usage.attributes.iter().collect::<Vec<_>>(),
        ["l", "m", "s"]
    );
}

#[test]
fn keywords_are_case_insensitive_and_whitespace_free() {
    assert!(eval("n=:five and(begins_with(s,:hello))"));
    assert!(eval("n between :four and :six"));
    assert!(eval("n in(:five)"));
    assert!(eval(" m . inr . v = :ten "));
}
