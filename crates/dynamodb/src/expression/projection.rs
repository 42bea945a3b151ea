//! ProjectionExpression: which attributes, or parts of documents, to return.

use std::collections::BTreeMap;

use super::ast::{Path, PathElement};
use super::lexer::Tok;
use super::parser::{Category, PResult, Parser};
use crate::item::{AttributeValue, Item};

pub(crate) const ERROR_ORDER: [Category; 4] = [
    Category::Reserved,
    Category::Name,
    Category::PathOverlap,
    Category::PathConflict,
];

pub(crate) fn parse(p: &mut Parser) -> PResult<Vec<Path>> {
    let mut paths = vec![p.path()?];
    while p.peek() == Tok::Comma {
        p.advance();
        paths.push(p.path()?);
    }
    if p.peek() != Tok::Eof {
        return Err(p.syntax_error());
    }
    let refs: Vec<&Path> = paths.iter().collect();
    p.check_paths(&refs);
    Ok(paths)
}

/// The requested parts of a document, as a tree.
#[derive(Default)]
struct Wanted {
    whole: bool,
    attributes: BTreeMap<String, Wanted>,
    indexes: BTreeMap<usize, Wanted>,
}

impl Wanted {
    fn add(&mut self, elements: &[PathElement]) {
        match elements.split_first() {
            None => self.whole = true,
            Some((PathElement::Attribute(a), rest)) => {
                self.attributes.entry(a.clone()).or_default().add(rest)
            }
            Some((PathElement::Index(i), rest)) => self.indexes.entry(*i).or_default().add(rest),
        }
    }

    /// The parts of `value` wanted; `None` when none of them exists. Projected list elements close
    /// up in index order, as DynamoDB returns them.
    fn project(&self, value: &AttributeValue) -> Option<AttributeValue> {
        if self.whole {
            return Some(value.clone());
        }
        match value {
            AttributeValue::M(m) if !self.attributes.is_empty() => {
                let out: BTreeMap<String, AttributeValue> = self
                    .attributes
                    .iter()
                    .filter_map(|(k, w)| Some((k.clone(), w.project(m.get(k)?)?)))
                    .collect();
                (!out.is_empty()).then_some(AttributeValue::M(out))
            }
            AttributeValue::L(l) if !self.indexes.is_empty() => {
                let out: Vec<AttributeValue> = self
                    .indexes
                    .iter()
                    .filter_map(|(i, w)| w.project(l.get(*i)?))
                    .collect();
                (!out.is_empty()).then_some(AttributeValue::L(out))
            }
            _ => None,
        }
    }
}

pub(crate) fn apply(paths: &[Path], item: &Item) -> Item {
    let mut wanted = Wanted::default();
    for path in paths {
        wanted.add(&path.0);
    }
    wanted
        .attributes
        .iter()
        .filter_map(|(k, w)| Some((k.clone(), w.project(item.get(k)?)?)))
        .collect()
}
