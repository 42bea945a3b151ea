//! The grammar of ConditionExpression, FilterExpression and KeyConditionExpression, lowest
//! precedence first: OR, AND, NOT, then comparisons, BETWEEN, IN and functions; parentheses group.

use super::ast::{Comparator, Condition, Operand};
use super::lexer::Tok;
use super::parser::{static_type, Category, Node, PResult, Parser};
use crate::item::{AttributeType, AttributeValue};

/// The most operands the right-hand side of IN may have.
pub const MAX_IN_OPERANDS: usize = 100;

/// Order in which DynamoDB reports the non-syntax errors of a condition.
pub(crate) const ERROR_ORDER: [Category; 13] = [
    Category::Parens,
    Category::UnknownFunction,
    Category::MisusedFunction,
    Category::Reserved,
    Category::Name,
    Category::Value,
    Category::OperandCount,
    Category::Distinct,
    Category::Function,
    Category::Section,
    Category::PathOverlap,
    Category::PathConflict,
    Category::Operand,
];

/// A whole condition: the expression must be one condition and nothing after it.
pub(crate) fn parse(p: &mut Parser) -> PResult<Condition> {
    let (node, _) = or_expr(p)?;
    if p.peek() != Tok::Eof {
        return Err(p.syntax_error());
    }
    p.require_condition(node)
}

fn or_expr(p: &mut Parser) -> PResult<(Node, bool)> {
    let (mut node, mut wrapped) = and_expr(p)?;
    while p.at_keyword("OR") {
        let left = p.require_condition(node)?;
        p.advance();
        let (right, _) = and_expr(p)?;
        let right = p.require_condition(right)?;
        node = Node::Cond(Condition::Or(Box::new(left), Box::new(right)), None);
        wrapped = false;
    }
    Ok((node, wrapped))
}

fn and_expr(p: &mut Parser) -> PResult<(Node, bool)> {
    let (mut node, mut wrapped) = not_expr(p)?;
    while p.at_keyword("AND") {
        let left = p.require_condition(node)?;
        p.advance();
        let (right, _) = not_expr(p)?;
        let right = p.require_condition(right)?;
        node = Node::Cond(Condition::And(Box::new(left), Box::new(right)), None);
        wrapped = false;
    }
    Ok((node, wrapped))
}

fn not_expr(p: &mut Parser) -> PResult<(Node, bool)> {
    if !p.at_keyword("NOT") {
        return primary(p);
    }
    p.advance();
    p.enter()?;
    let (inner, _) = not_expr(p)?;
    let inner = p.require_condition(inner)?;
    p.leave();
    Ok((Node::Cond(Condition::Not(Box::new(inner)), None), false))
}

fn comparator(tok: Tok) -> Option<Comparator> {
    Some(match tok {
        Tok::Eq => Comparator::Eq,
        Tok::Ne => Comparator::Ne,
        Tok::Lt => Comparator::Lt,
        Tok::Le => Comparator::Le,
        Tok::Gt => Comparator::Gt,
        Tok::Ge => Comparator::Ge,
        _ => return None,
    })
}

/// A parenthesized condition or operand, a function call, or a comparison, BETWEEN or IN with an
/// operand on the left. Also says whether it was exactly one parenthesized group.
fn primary(p: &mut Parser) -> PResult<(Node, bool)> {
    let (node, wrapped) = if p.peek() == Tok::LParen {
        p.advance();
        p.enter()?;
        let (inner, inner_wrapped) = or_expr(p)?;
        p.expect(Tok::RParen)?;
        p.leave();
        if inner_wrapped {
            p.note(
                Category::Parens,
                "The expression has redundant parentheses;",
            );
        }
        (inner, true)
    } else {
        (p.atom()?, false)
    };
    let continues = comparator(p.peek()).is_some() || p.at_keyword("BETWEEN") || p.at_keyword("IN");
    if !continues {
        return Ok((node, wrapped));
    }
    let left = p.require_operand(node)?;
    if let Some(cmp) = comparator(p.peek()) {
        p.advance();
        let right = p.operand()?;
        check_distinct(p, cmp.symbol(), &left, &right);
        return Ok((
            Node::Cond(Condition::Compare(cmp, left, right), None),
            false,
        ));
    }
    if p.at_keyword("BETWEEN") {
        p.advance();
        let low = p.operand()?;
        p.expect_keyword("AND")?;
        let high = p.operand()?;
        check_between(p, &low, &high);
        return Ok((Node::Cond(Condition::Between(left, low, high), None), false));
    }
    p.advance();
    p.expect(Tok::LParen)?;
    p.enter()?;
    let mut list = vec![p.operand()?];
    while p.peek() == Tok::Comma {
        p.advance();
        list.push(p.operand()?);
    }
    p.expect(Tok::RParen)?;
    p.leave();
    if list.len() > MAX_IN_OPERANDS {
        p.note(
            Category::Function,
            format!(
                "The IN operator is provided with too many operands; number of operands: {}",
                list.len()
            ),
        );
    }
    Ok((Node::Cond(Condition::In(left, list), None), false))
}

/// `a = a` and `contains(a, a)` are refused: the first operand must differ from the others.
fn check_distinct(p: &mut Parser, operator: &str, first: &Operand, second: &Operand) {
    if let (Operand::Path(a), Operand::Path(b)) = (first, second) {
        if a == b {
            p.note(Category::Distinct, format!("The first operand must be distinct from the remaining operands for this operator or function; operator: {operator}, first operand: {a}"));
        }
    }
}

/// How BETWEEN's messages print a bound: `{N:5}`.
fn bound(v: &AttributeValue) -> String {
    let text = match v {
        AttributeValue::S(s) => s.clone(),
        AttributeValue::N(n) => n.to_string(),
        other => other.to_json().to_string(),
    };
    format!("{{{}:{text}}}", v.attribute_type().name())
}

fn check_between(p: &mut Parser, low: &Operand, high: &Operand) {
    let (Operand::Value(l), Operand::Value(h)) = (low, high) else {
        return;
    };
    let bounds = format!(
        "lower bound operand: AttributeValue: {}, upper bound operand: AttributeValue: {}",
        bound(l),
        bound(h)
    );
    if l.attribute_type() != h.attribute_type() {
        p.note(
            Category::Function,
            format!(
                "The BETWEEN operator requires same data type for lower and upper bounds; {bounds}"
            ),
        );
    } else if l.compare(h) == Some(std::cmp::Ordering::Greater) {
        p.note(Category::Function, format!("The BETWEEN operator requires upper bound to be greater than or equal to lower bound; {bounds}"));
    }
}

fn wrong_type(p: &mut Parser, function: &str, t: &str) {
    p.note(
        Category::Function,
        format!("Incorrect operand type for operator or function; operator or function: {function}, operand type: {t}"),
    );
}

/// A call in a condition: the five condition functions and `size`.
pub(crate) fn build_function(p: &mut Parser, name: &str, mut args: Vec<Operand>) -> Node {
    let arity = match name {
        "attribute_exists" | "attribute_not_exists" | "size" => 1,
        "attribute_type" | "begins_with" | "contains" => 2,
        _ => {
            p.note(
                Category::UnknownFunction,
                format!("Invalid function name; function: {name}"),
            );
            return Node::Placeholder;
        }
    };
    if args.len() != arity {
        p.note(
            Category::OperandCount,
            format!("Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {}", args.len()),
        );
        return Node::Placeholder;
    }
    if arity == 2 {
        check_distinct(p, name, &args[0], &args[1]);
    }
    let second = if arity == 2 { args.pop() } else { None };
    let first = args
        .pop()
        .unwrap_or_else(super::parser::placeholder_operand);
    let condition = match (name, first, second) {
        ("size", op, _) => {
            if let Some(t) = static_type(&op).filter(|t| {
                matches!(
                    t,
                    AttributeType::N | AttributeType::Bool | AttributeType::Null
                )
            }) {
                wrong_type(p, name, t.name());
            }
            return Node::Operand(Operand::Size(Box::new(op)));
        }
        (_, Operand::Path(path), None) => {
            if name == "attribute_exists" {
                Condition::AttributeExists(path)
            } else {
                Condition::AttributeNotExists(path)
            }
        }
        (_, _, None) => {
            p.note(
                Category::Function,
                format!(
                    "Operator or function requires a document path; operator or function: {name}"
                ),
            );
            return Node::Placeholder;
        }
        ("attribute_type", op, Some(kind)) => {
            match &kind {
                Operand::Value(AttributeValue::S(t)) => {
                    if AttributeType::from_name(t).is_none() {
                        p.note(Category::Function, format!("Invalid attribute type name found; type: {t}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}"));
                    }
                }
                other => {
                    let t =
                        static_type(other).map_or("{NS,SS,L,BS,N,M,B,BOOL,NULL,S}", |t| t.name());
                    wrong_type(p, name, t);
                }
            }
            Condition::AttributeType(op, kind)
        }
        ("begins_with", a, Some(b)) => {
            for op in [&a, &b] {
                if let Some(t) =
                    static_type(op).filter(|t| !matches!(t, AttributeType::S | AttributeType::B))
                {
                    wrong_type(p, name, t.name());
                }
            }
            Condition::BeginsWith(a, b)
        }
        (_, a, Some(b)) => Condition::Contains(a, b),
    };
    Node::Cond(condition, Some(name.to_string()))
}
