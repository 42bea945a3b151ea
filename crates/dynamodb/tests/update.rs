//! UpdateExpression: parsing, the service's messages, and the item each update produces.

mod common;

use common::{attrs, item, no_attrs};
use m2sec_dynamodb::expression::{parse_update, ExpressionAttributes};
use m2sec_dynamodb::item::{item_to_json, Item};
use serde_json::{json, Value};

fn start() -> Item {
    item(json!({
        "pk": {"S": "k"},
        "n": {"N": "5"},
        "s": {"S": "x"},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2"]},
        "l": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}, {"N": "3"}]},
        "m": {"M": {"a": {"N": "1"}, "inr": {"M": {}}}}
    }))
}

fn values() -> ExpressionAttributes {
    attrs(
        json!({"#n": "n", "#status": "status"}),
        json!({
            ":one": {"N": "1"}, ":neg": {"N": "-7.5"}, ":s": {"S": "y"}, ":ss": {"SS": ["b", "c"]},
            ":ns": {"NS": ["2", "3"]}, ":l": {"L": [{"S": "z"}]}, ":empty": {"L": []},
            ":big": {"N": "99999999999999999999999999999999999999"}, ":m": {"M": {}},
            ":bs": {"BS": ["AQ=="]}
        }),
    )
}

/// The item after `expression`, as DynamoDB JSON.
fn run(expression: &str) -> Value {
    let update =
        parse_update(expression, &values()).unwrap_or_else(|e| panic!("{expression}: {e}"));
    let after = update
        .apply(&start())
        .unwrap_or_else(|e| panic!("{expression}: {e}"));
    item_to_json(&after)
}

fn apply_error(expression: &str) -> String {
    let update =
        parse_update(expression, &values()).unwrap_or_else(|e| panic!("{expression}: {e}"));
    update.apply(&start()).expect_err(expression).0
}

fn parse_error(expression: &str, attrs: &ExpressionAttributes) -> String {
    parse_update(expression, attrs).expect_err(expression).0
}

#[test]
fn set() {
    assert_eq!(run("SET s = :s")["s"], json!({"S": "y"}));
    assert_eq!(run("SET fresh = :s")["fresh"], json!({"S": "y"}));
    assert_eq!(run("SET n = n + :one")["n"], json!({"N": "6"}));
    assert_eq!(run("SET n = n - :neg")["n"], json!({"N": "12.5"}));
    assert_eq!(run("SET n = :one - n")["n"], json!({"N": "-4"}));
    assert_eq!(run("SET #n = #n + :one")["n"], json!({"N": "6"}));
    assert_eq!(
        run("SET c = if_not_exists(c, :one)")["c"],
        json!({"N": "1"})
    );
    assert_eq!(
        run("SET n = if_not_exists(n, :one)")["n"],
        json!({"N": "5"})
    );
    assert_eq!(
        run("SET c = if_not_exists(c, :one) + :one")["c"],
        json!({"N": "2"})
    );
    assert_eq!(
        run("SET l = list_append(l, :l)")["l"]["L"][4],
        json!({"S": "z"})
    );
    assert_eq!(
        run("SET l = list_append(:l, l)")["l"]["L"][0],
        json!({"S": "z"})
    );
    assert_eq!(
        run("SET x = list_append(if_not_exists(x, :empty), :l)")["x"],
        json!({"L": [{"S": "z"}]})
    );
    assert_eq!(run("SET m.a = :s")["m"]["M"]["a"], json!({"S": "y"}));
    assert_eq!(
        run("SET m.inr.deep = :one")["m"]["M"]["inr"],
        json!({"M": {"deep": {"N": "1"}}})
    );
    assert_eq!(run("SET l[1] = :s")["l"]["L"][1], json!({"S": "y"}));
    // Past the end appends.
    assert_eq!(run("SET l[10] = :s")["l"]["L"][4], json!({"S": "y"}));
    assert_eq!(run("SET n = (n + :one)")["n"], json!({"N": "6"}));
    // Every operand reads the item before the update.
    let swapped = run("SET n = s, s = n");
    assert_eq!(
        (swapped["n"].clone(), swapped["s"].clone()),
        (json!({"S": "x"}), json!({"N": "5"}))
    );
}

#[test]
fn remove() {
    let after = run("REMOVE s, m.a, absentattr");
    assert!(after.get("s").is_none());
    assert_eq!(after["m"], json!({"M": {"inr": {"M": {}}}}));
    // Indexes name elements of the list before the update.
    assert_eq!(
        run("REMOVE l[1], l[3]")["l"],
        json!({"L": [{"N": "0"}, {"N": "2"}]})
    );
    assert_eq!(run("REMOVE l[9]")["l"]["L"].as_array().unwrap().len(), 4);
    assert_eq!(
        run("REMOVE m.nothing.deeper")["m"],
        item_to_json(&start())["m"]
    );
}

#[test]
fn add_and_delete() {
    assert_eq!(run("ADD n :one")["n"], json!({"N": "6"}));
    assert_eq!(run("ADD tally :one")["tally"], json!({"N": "1"}));
    assert_eq!(run("ADD ss :ss")["ss"], json!({"SS": ["a", "b", "c"]}));
    assert_eq!(run("ADD ns :ns")["ns"], json!({"NS": ["1", "2", "3"]}));
    assert_eq!(run("ADD fresh :ss")["fresh"], json!({"SS": ["b", "c"]}));
    assert_eq!(run("DELETE ss :ss")["ss"], json!({"SS": ["a"]}));
    assert_eq!(run("DELETE ns :ns")["ns"], json!({"NS": ["1"]}));
    assert!(run("DELETE fresh :ss").get("fresh").is_none());
    // A set emptied by DELETE is removed.
    let both = item(json!({"ss": {"SS": ["b", "c"]}}));
    let update = parse_update("DELETE ss :ss", &values()).unwrap();
    assert!(update.apply(&both).unwrap().is_empty());
    let all = run("SET s = :s REMOVE pk ADD n :one DELETE ss :ss");
    assert_eq!(
        (all["s"].clone(), all["n"].clone(), all["ss"].clone()),
        (json!({"S": "y"}), json!({"N": "6"}), json!({"SS": ["a"]}))
    );
    assert!(all.get("pk").is_none());
}

#[test]
fn evaluation_errors() {
    let wrong = "An operand in the update expression has an incorrect data type";
    let invalid = "The document path provided in the update expression is invalid for update";
    for (expression, message) in [
        ("SET n = s + :one", wrong),
        (
            "SET n = absentattr + :one",
            "The provided expression refers to an attribute that does not exist in the item",
        ),
        (
            "SET x = absentattr",
            "The provided expression refers to an attribute that does not exist in the item",
        ),
        ("SET l = list_append(l, s)", wrong),
        ("ADD s :one", wrong),
        ("ADD ss :ns", wrong),
        ("DELETE ns :ss", wrong),
        ("SET absentattr.a = :one", invalid),
        ("SET s.a = :one", invalid),
        ("SET s[0] = :one", invalid),
        ("SET m[0] = :one", invalid),
        ("ADD m.x.y :one", invalid),
        ("REMOVE s.a", invalid),
        (
            "SET n = :big + :big",
            "Attempting to store more than 38 significant digits in a Number",
        ),
    ] {
        assert_eq!(apply_error(expression), message, "{expression}");
    }
}

#[test]
fn parse_errors() {
    let v = values();
    for (expression, message) in [
        ("", "The expression can not be empty;"),
        ("INVALID SYNTAX HERE", "Syntax error; token: \"INVALID\", near: \"INVALID SYNTAX\""),
        ("SET", "Syntax error; token: \"<EOF>\", near: \"SET\""),
        ("SET a = VALUE 1", "Syntax error; token: \"1\", near: \"VALUE 1\""),
        ("SET a = :one,", "Syntax error; token: \"<EOF>\", near: \",\""),
        ("REMOVE a = :one", "Syntax error; token: \"=\", near: \"a = :one\""),
        ("ADD a b", "Syntax error; token: \"b\", near: \"a b\""),
        ("SET a = :one SET b = :one", "The \"SET\" section can only be used once in an update expression;"),
        ("SET status = :one", "Attribute name is a reserved keyword; reserved keyword: status"),
        ("SET a = size(b)", "Invalid function name; function: size"),
        ("SET a = :nope", "An expression attribute value used in expression is not defined; attribute value: :nope"),
        ("SET #nope = :one", "An expression attribute name used in the document path is not defined; attribute name: #nope"),
        ("SET a = :one REMOVE a.b", "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"),
        ("SET a = :one, a = :s", "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]"),
        ("SET a.b = :one REMOVE a[0]", "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [0]]"),
        ("SET #n = :one ADD n :one", "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [n], path two: [n]"),
        ("ADD a :s", "Incorrect operand type for operator or function; operator: ADD, operand type: STRING, typeSet: ALLOWED_FOR_ADD_OPERAND"),
        ("ADD a :l", "Incorrect operand type for operator or function; operator: ADD, operand type: LIST, typeSet: ALLOWED_FOR_ADD_OPERAND"),
        ("DELETE a :one", "Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER, typeSet: ALLOWED_FOR_DELETE_OPERAND"),
        ("SET a = :s + :one", "Incorrect operand type for operator or function; operator or function: +, operand type: S"),
        ("SET a = list_append(:one, :l)", "Incorrect operand type for operator or function; operator or function: list_append, operand type: N"),
        ("SET a = list_append(:l)", "Incorrect number of operands for operator or function; operator or function: list_append, number of operands: 1"),
        ("SET a = if_not_exists(:one, :one)", "Operator or function requires a document path; operator or function: if_not_exists"),
    ] {
        assert_eq!(parse_error(expression, &v), format!("Invalid UpdateExpression: {message}"), "{expression}");
    }
}

#[test]
fn clauses_in_any_order_and_case() {
    let after = run("remove s add n :one set x = :s");
    assert_eq!(after["x"], json!({"S": "y"}));
    assert_eq!(after["n"], json!({"N": "6"}));
    assert!(after.get("s").is_none());
}

#[test]
fn written_attributes_and_usage() {
    let update = parse_update("SET m.a = :one, #n = :s REMOVE l[0] ADD ss :ss", &values()).unwrap();
    assert_eq!(update.written_attributes(), ["m", "n", "l", "ss"]);
    assert_eq!(
        update.usage.attributes.iter().collect::<Vec<_>>(),
        ["l", "m", "n", "ss"]
    );
    assert_eq!(update.usage.names.iter().collect::<Vec<_>>(), ["#n"]);
    assert!(parse_update("SET a = :x", &no_attrs()).is_err());
}
