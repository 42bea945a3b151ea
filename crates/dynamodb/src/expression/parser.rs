//! The recursive-descent parser shared by all expression kinds: tokens, paths, operands,
//! functions, and the error bookkeeping.
//!
//! DynamoDB reports a syntax error as soon as it meets one, but its other errors (reserved words,
//! undefined placeholders, wrong operand types…) in a fixed order of kinds whatever their place in
//! the expression. So syntax errors stop the parse (`Fatal`), the others are noted, first one of
//! each kind, and the caller picks by its expression kind's order.

use std::collections::BTreeMap;

use super::ast::{Condition, Operand, Path, PathElement};
use super::lexer::{tokenize, Tok, Token};
use super::reserved::is_reserved;
use super::{ExpressionAttributes, Usage};
use crate::item::{AttributeType, AttributeValue};

/// Deepest nesting of parentheses, NOT and function calls. DynamoDB's 4 KB expression limit bounds
/// it there; ours keeps recursion off the end of the stack whatever the input.
pub const MAX_DEPTH: usize = 100;

/// Kinds of non-syntax errors; each expression kind reports them in its own order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Category {
    Parens,
    UnknownFunction,
    MisusedFunction,
    Reserved,
    Section,
    Name,
    Value,
    OperandCount,
    Distinct,
    PathOverlap,
    PathConflict,
    Operand,
    Function,
}

/// Whether the parse is of a condition (AND, OR, NOT, BETWEEN, IN are keywords), an update
/// (SET, REMOVE, ADD, DELETE) or a projection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Condition,
    Update,
    Projection,
}

/// An error that ends the parse: a syntax error or too deep a nesting.
#[derive(Debug)]
pub(crate) struct Fatal(pub String);

pub(crate) type PResult<T> = Result<T, Fatal>;

/// What a primary yields before the grammar knows which it needs.
#[derive(Debug)]
pub(crate) enum Node {
    /// A condition, with the function's name when a function call produced it.
    Cond(Condition, Option<String>),
    Operand(Operand),
    /// Stands for a call already reported as invalid; fits wherever it appears.
    Placeholder,
}

pub(crate) struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    attrs: &'a ExpressionAttributes,
    pub usage: Usage,
    errors: BTreeMap<Category, String>,
    pub mode: Mode,
}

const CONDITION_KEYWORDS: [&str; 5] = ["AND", "OR", "NOT", "BETWEEN", "IN"];
const UPDATE_KEYWORDS: [&str; 4] = ["SET", "REMOVE", "ADD", "DELETE"];

/// Stands in for a value that could not be resolved; never evaluated, as its error is reported.
pub(crate) fn placeholder_operand() -> Operand {
    Operand::Value(AttributeValue::Null)
}

pub(crate) fn placeholder_condition() -> Condition {
    Condition::AttributeExists(Path(Vec::new()))
}

/// The type an operand is known to have before evaluation.
pub(crate) fn static_type(op: &Operand) -> Option<AttributeType> {
    match op {
        Operand::Value(v) => Some(v.attribute_type()),
        Operand::Size(_) | Operand::Plus(..) | Operand::Minus(..) => Some(AttributeType::N),
        Operand::ListAppend(..) => Some(AttributeType::L),
        Operand::Path(_) | Operand::IfNotExists(..) => None,
    }
}

impl<'a> Parser<'a> {
    pub fn new(src: &'a str, attrs: &'a ExpressionAttributes, mode: Mode) -> Self {
        Self {
            src,
            tokens: tokenize(src),
            pos: 0,
            depth: 0,
            attrs,
            usage: Usage::default(),
            errors: BTreeMap::new(),
            mode,
        }
    }

    pub fn peek(&self) -> Tok {
        self.tokens[self.pos].tok
    }

    pub fn peek_at(&self, ahead: usize) -> Tok {
        self.tokens
            .get(self.pos + ahead)
            .map_or(Tok::Eof, |t| t.tok)
    }

    fn text(&self, token: &Token) -> &'a str {
        &self.src[token.start..token.end]
    }

    pub fn current_text(&self) -> &'a str {
        self.text(&self.tokens[self.pos])
    }

    pub fn advance(&mut self) -> Token {
        let t = self.tokens[self.pos];
        if t.tok != Tok::Eof {
            self.pos += 1;
        }
        t
    }

    /// Whether the current token is the keyword `word` (any case).
    pub fn at_keyword(&self, word: &str) -> bool {
        self.peek() == Tok::Ident && self.current_text().eq_ignore_ascii_case(word)
    }

    fn is_keyword(&self, text: &str) -> bool {
        let words: &[&str] = match self.mode {
            Mode::Condition => &CONDITION_KEYWORDS,
            Mode::Update => &UPDATE_KEYWORDS,
            Mode::Projection => &[],
        };
        words.iter().any(|w| w.eq_ignore_ascii_case(text))
    }

    /// DynamoDB's syntax error at the current token: the token, and the text from the token
    /// before it to the token after it.
    pub fn syntax_error(&self) -> Fatal {
        let here = self.tokens[self.pos];
        let start = if self.pos > 0 {
            self.tokens[self.pos - 1].start
        } else {
            here.start
        };
        let (token, end) = if here.tok == Tok::Eof {
            ("<EOF>", self.src.len())
        } else {
            let next = self.tokens[self.pos + 1];
            let end = if next.tok == Tok::Eof {
                here.end
            } else {
                next.end
            };
            (self.text(&here), end)
        };
        Fatal(format!(
            "Syntax error; token: \"{token}\", near: \"{}\"",
            &self.src[start..end]
        ))
    }

    pub fn expect(&mut self, tok: Tok) -> PResult<Token> {
        if self.peek() == tok {
            Ok(self.advance())
        } else {
            Err(self.syntax_error())
        }
    }

    pub fn expect_keyword(&mut self, word: &str) -> PResult<()> {
        if self.at_keyword(word) {
            self.advance();
            Ok(())
        } else {
            Err(self.syntax_error())
        }
    }

    pub fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Fatal(format!(
                "The expression is nested too deeply; maximum nesting: {MAX_DEPTH}"
            )));
        }
        Ok(())
    }

    pub fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Notes an error unless one of its kind was noted first.
    pub fn note(&mut self, category: Category, message: impl Into<String>) {
        self.errors
            .entry(category)
            .or_insert_with(|| message.into());
    }

    /// The error to report, by the expression kind's order of kinds.
    pub fn first_error(&self, order: &[Category]) -> Option<String> {
        order
            .iter()
            .find_map(|c| self.errors.get(c).cloned())
            .or_else(|| self.errors.values().next().cloned())
    }

    /// A document path: `a`, `#n`, `a.b[2].#c`.
    pub fn path(&mut self) -> PResult<Path> {
        let mut elements = vec![PathElement::Attribute(self.path_name()?)];
        loop {
            match self.peek() {
                Tok::Dot => {
                    self.advance();
                    elements.push(PathElement::Attribute(self.path_name()?));
                }
                Tok::LBracket => {
                    self.advance();
                    let index = self.expect(Tok::Int)?;
                    // Indexes beyond any list's length behave alike, so saturating loses nothing.
                    let index = self.text(&index).parse::<usize>().unwrap_or(usize::MAX);
                    self.expect(Tok::RBracket)?;
                    elements.push(PathElement::Index(index));
                }
                _ => break,
            }
        }
        let path = Path(elements);
        self.usage.attributes.insert(path.attribute().to_string());
        Ok(path)
    }

    fn path_name(&mut self) -> PResult<String> {
        match self.peek() {
            Tok::Ident if !self.is_keyword(self.current_text()) => {
                let name = self.current_text();
                if is_reserved(name) {
                    self.note(
                        Category::Reserved,
                        format!("Attribute name is a reserved keyword; reserved keyword: {name}"),
                    );
                }
                self.advance();
                Ok(name.to_string())
            }
            Tok::Name => {
                let placeholder = self.current_text();
                self.advance();
                self.usage.names.insert(placeholder.to_string());
                match self.attrs.names.get(placeholder) {
                    Some(name) => Ok(name.clone()),
                    None => {
                        self.note(Category::Name, format!("An expression attribute name used in the document path is not defined; attribute name: {placeholder}"));
                        Ok(placeholder.to_string())
                    }
                }
            }
            _ => Err(self.syntax_error()),
        }
    }

    /// A `:value` placeholder at the current token.
    pub fn value(&mut self) -> PResult<AttributeValue> {
        if self.peek() != Tok::Value {
            return Err(self.syntax_error());
        }
        let placeholder = self.current_text();
        self.advance();
        self.usage.values.insert(placeholder.to_string());
        match self.attrs.values.get(placeholder) {
            Some(v) => Ok(v.clone()),
            None => {
                self.note(
                    Category::Value,
                    format!("An expression attribute value used in expression is not defined; attribute value: {placeholder}"),
                );
                Ok(AttributeValue::Null)
            }
        }
    }

    /// A value, path or function call.
    pub fn atom(&mut self) -> PResult<Node> {
        match self.peek() {
            Tok::Value => Ok(Node::Operand(Operand::Value(self.value()?))),
            Tok::Ident
                if self.peek_at(1) == Tok::LParen && !self.is_keyword(self.current_text()) =>
            {
                self.call()
            }
            Tok::Ident | Tok::Name => Ok(Node::Operand(Operand::Path(self.path()?))),
            _ => Err(self.syntax_error()),
        }
    }

    fn call(&mut self) -> PResult<Node> {
        let name = self.current_text().to_string();
        self.advance();
        self.expect(Tok::LParen)?;
        self.enter()?;
        let mut args = vec![self.operand()?];
        while self.peek() == Tok::Comma {
            self.advance();
            args.push(self.operand()?);
        }
        self.expect(Tok::RParen)?;
        self.leave();
        Ok(match self.mode {
            Mode::Update => super::update::build_function(self, &name, args),
            _ => super::condition::build_function(self, &name, args),
        })
    }

    /// An operand, possibly in parentheses.
    pub fn operand(&mut self) -> PResult<Operand> {
        Ok(self.operand_wrapped()?.0)
    }

    /// An operand, and whether it was wrapped in parentheses (to find redundant ones).
    pub fn operand_wrapped(&mut self) -> PResult<(Operand, bool)> {
        if self.peek() == Tok::LParen {
            self.advance();
            self.enter()?;
            let (inner, wrapped) = if self.mode == Mode::Update {
                self.set_value_wrapped()?
            } else {
                self.operand_wrapped()?
            };
            self.expect(Tok::RParen)?;
            self.leave();
            if wrapped {
                self.note(
                    Category::Parens,
                    "The expression has redundant parentheses;",
                );
            }
            return Ok((inner, true));
        }
        let node = self.atom()?;
        Ok((self.require_operand(node)?, false))
    }

    /// SET's right-hand side: an operand, or two joined by `+` or `-`.
    pub fn set_value_wrapped(&mut self) -> PResult<(Operand, bool)> {
        let (left, wrapped) = self.operand_wrapped()?;
        let plus = match self.peek() {
            Tok::Plus => true,
            Tok::Minus => false,
            _ => return Ok((left, wrapped)),
        };
        self.advance();
        let right = self.operand()?;
        let symbol = if plus { "+" } else { "-" };
        for op in [&left, &right] {
            if let Some(t) = static_type(op).filter(|t| *t != AttributeType::N) {
                self.note(Category::Function, format!("Incorrect operand type for operator or function; operator or function: {symbol}, operand type: {}", t.name()));
            }
        }
        let (l, r) = (Box::new(left), Box::new(right));
        Ok((
            if plus {
                Operand::Plus(l, r)
            } else {
                Operand::Minus(l, r)
            },
            false,
        ))
    }

    /// The node as an operand; a condition function here is a misuse.
    pub fn require_operand(&mut self, node: Node) -> PResult<Operand> {
        match node {
            Node::Operand(op) => Ok(op),
            Node::Placeholder => Ok(placeholder_operand()),
            Node::Cond(_, Some(function)) => {
                self.note(Category::MisusedFunction, format!("The function is not allowed to be used this way in an expression; function: {function}"));
                Ok(placeholder_operand())
            }
            Node::Cond(_, None) => Err(self.syntax_error()),
        }
    }

    /// The node as a condition; `size()` here is a misuse, any other operand a syntax error at
    /// the current token.
    pub fn require_condition(&mut self, node: Node) -> PResult<Condition> {
        match node {
            Node::Cond(c, _) => Ok(c),
            Node::Placeholder => Ok(placeholder_condition()),
            Node::Operand(Operand::Size(_)) => {
                self.note(
                    Category::MisusedFunction,
                    "The function is not allowed to be used this way in an expression; function: size",
                );
                Ok(placeholder_condition())
            }
            Node::Operand(_) => Err(self.syntax_error()),
        }
    }

    /// Notes overlapping or conflicting paths among those of one expression.
    pub fn check_paths(&mut self, paths: &[&Path]) {
        for (i, later) in paths.iter().enumerate() {
            for earlier in &paths[..i] {
                let shared = earlier.0.iter().zip(later.0.iter());
                let mut conflict = false;
                let mut diverged = false;
                for (a, b) in shared {
                    match (a, b) {
                        (PathElement::Attribute(x), PathElement::Attribute(y)) if x == y => {}
                        (PathElement::Index(x), PathElement::Index(y)) if x == y => {}
                        (PathElement::Attribute(_), PathElement::Index(_))
                        | (PathElement::Index(_), PathElement::Attribute(_)) => {
                            conflict = true;
                            break;
                        }
                        _ => {
                            diverged = true;
                            break;
                        }
                    }
                }
                if conflict {
                    self.note(Category::PathConflict, format!("Two document paths conflict with each other; must remove or rewrite one of these paths; path one: {earlier}, path two: {later}"));
                } else if !diverged {
                    self.note(Category::PathOverlap, format!("Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {earlier}, path two: {later}"));
                }
            }
        }
    }
}
