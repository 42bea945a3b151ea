//! Reading and writing an item at a document path.

use super::ast::{Path, PathElement};
use crate::item::{AttributeValue, Item};

/// The path leads through something that is not the map or list it names, or a SET's parent is
/// missing.
#[derive(Debug)]
pub(crate) struct InvalidPath;

pub(crate) fn get<'a>(item: &'a Item, path: &Path) -> Option<&'a AttributeValue> {
    let (first, rest) = path.0.split_first()?;
    let PathElement::Attribute(name) = first else {
        return None;
    };
    let mut current = item.get(name)?;
    for element in rest {
        current = match (element, current) {
            (PathElement::Attribute(a), AttributeValue::M(m)) => m.get(a)?,
            (PathElement::Index(i), AttributeValue::L(l)) => l.get(*i)?,
            _ => return None,
        };
    }
    Some(current)
}

fn get_mut<'a>(item: &'a mut Item, elements: &[PathElement]) -> Option<&'a mut AttributeValue> {
    let (first, rest) = elements.split_first()?;
    let PathElement::Attribute(name) = first else {
        return None;
    };
    let mut current = item.get_mut(name)?;
    for element in rest {
        current = match (element, current) {
            (PathElement::Attribute(a), AttributeValue::M(m)) => m.get_mut(a)?,
            (PathElement::Index(i), AttributeValue::L(l)) => l.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(current)
}

/// Writes `value` at `path`. The parent must exist; an index past a list's end appends.
pub(crate) fn set(item: &mut Item, path: &Path, value: AttributeValue) -> Result<(), InvalidPath> {
    let Some((last, parents)) = path.0.split_last() else {
        return Err(InvalidPath);
    };
    if parents.is_empty() {
        let PathElement::Attribute(name) = last else {
            return Err(InvalidPath);
        };
        item.insert(name.clone(), value);
        return Ok(());
    }
    match (last, get_mut(item, parents)) {
        (PathElement::Attribute(a), Some(AttributeValue::M(m))) => {
            m.insert(a.clone(), value);
        }
        (PathElement::Index(i), Some(AttributeValue::L(l))) => {
            if *i < l.len() {
                l[*i] = value;
            } else {
                l.push(value);
            }
        }
        _ => return Err(InvalidPath),
    }
    Ok(())
}

/// Removes what is at `path`; nothing there is no error, a parent of the wrong type is.
pub(crate) fn remove(item: &mut Item, path: &Path) -> Result<(), InvalidPath> {
    let Some((last, parents)) = path.0.split_last() else {
        return Err(InvalidPath);
    };
    if parents.is_empty() {
        if let PathElement::Attribute(name) = last {
            item.remove(name);
        }
        return Ok(());
    }
    match (last, get_mut(item, parents)) {
        (_, None) => {}
        (PathElement::Attribute(a), Some(AttributeValue::M(m))) => {
            m.remove(a);
        }
        (PathElement::Index(i), Some(AttributeValue::L(l))) => {
            if *i < l.len() {
                l.remove(*i);
            }
        }
        _ => return Err(InvalidPath),
    }
    Ok(())
}
