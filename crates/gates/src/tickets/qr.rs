//! `GET /tickets/{ticket_id}/qr.svg` and `/qr.png` (admin): the ticket's code as a QR image, error
//! correction level M, with the four-module quiet zone readers expect.
//!
//! Codes are not stored, so each request signs the ticket's claims anew (ECDSA signatures differ
//! each time; every one of them is valid). SVG is one path of dark runs; PNG is 8-bit grey, eight
//! pixels a module. Either is sent with `Cache-Control: no-store`: the image is the ticket.

use qrcode::{Color, EcLevel, QrCode};
use serde_json::{json, Value};

use super::{claims_of, path_ticket_id};
use crate::code;
use crate::proxy::{Event, Response};
use crate::role::{item, AsRole};
use crate::{session, Function, Gates};

/// Light modules around the symbol.
const QUIET_ZONE: usize = 4;
/// Pixels per module in a PNG.
const PNG_SCALE: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Svg,
    Png,
}

pub(crate) async fn qr(gates: &Gates, function: &Function, event: &Value) -> Response {
    let caller = match session::require(gates, function, event, &["admin"]).await {
        Ok(claims) => claims,
        Err(refusal) => return refusal,
    };
    let event = Event(event);
    let ticket_id = match path_ticket_id(&event) {
        Ok(ticket_id) => ticket_id,
        Err(response) => return response,
    };
    let format = match event.path() {
        path if path.ends_with("/qr.svg") => Format::Svg,
        path if path.ends_with("/qr.png") => Format::Png,
        _ => return Response::refusal(404, "Ask for /tickets/{ticket_id}/qr.svg or /qr.png"),
    };
    let as_role = AsRole::new(gates.services.as_ref(), function);
    let Some(table) = as_role.table("TICKETS_TABLE") else {
        return Response::internal_error();
    };
    let key = json!({"ticketId": {"S": ticket_id}});
    let record = match as_role.get_item(table, key).await {
        Ok(Some(record)) => record,
        Ok(None) => return Response::refusal(404, &format!("Ticket {ticket_id} does not exist")),
        Err(e) => return as_role.failed("cannot read the tickets table", &e),
    };
    let Some(claims) = claims_of(&record) else {
        tracing::error!(ticket_id = %ticket_id, "an item of the tickets table is not a ticket");
        return Response::internal_error();
    };
    let code = match code::sign(gates, &as_role, function, &claims).await {
        Ok((code, _)) => code,
        Err(e) => return as_role.failed("cannot sign a ticket code", &e),
    };
    let symbol = match QrCode::with_error_correction_level(code.as_bytes(), EcLevel::M) {
        Ok(symbol) => symbol,
        Err(e) => {
            tracing::error!(ticket_id = %ticket_id, error = %e, "a ticket code does not fit a QR code");
            return Response::internal_error();
        }
    };
    let audit = item(json!({
        "action": {"S": "qr"},
        "ticketId": {"S": ticket_id},
        "format": {"S": if format == Format::Svg { "svg" } else { "png" }},
    }));
    let _ = as_role.audit("ticket", Some(&caller.sub), audit).await;
    let response = match format {
        Format::Svg => Response::text(200, "image/svg+xml", svg(&symbol)),
        Format::Png => Response::binary(200, "image/png", &png(&symbol)),
    };
    response.with_header("Cache-Control", "no-store")
}

/// The dark modules of `symbol`, row by row, as `(row, first column, length)` runs.
fn dark_runs(symbol: &QrCode) -> Vec<(usize, usize, usize)> {
    let width = symbol.width();
    let colors = symbol.to_colors();
    let mut runs = Vec::new();
    for (y, row) in colors.chunks(width).enumerate() {
        let mut x = 0;
        while x < width {
            if row[x] == Color::Dark {
                let start = x;
                while x < width && row[x] == Color::Dark {
                    x += 1;
                }
                runs.push((y, start, x - start));
            } else {
                x += 1;
            }
        }
    }
    runs
}

/// An SVG document of `symbol`, one user unit a module.
fn svg(symbol: &QrCode) -> String {
    let size = symbol.width() + 2 * QUIET_ZONE;
    let mut path = String::new();
    for (y, x, length) in dark_runs(symbol) {
        let (x, y) = (x + QUIET_ZONE, y + QUIET_ZONE);
        path.push_str(&format!("M{x},{y}h{length}v1h-{length}z"));
    }
    let pixels = size * PNG_SCALE;
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{pixels}" height="{pixels}" "#,
            r#"viewBox="0 0 {size} {size}" shape-rendering="crispEdges">"#,
            r##"<rect width="{size}" height="{size}" fill="#fff"/>"##,
            r##"<path fill="#000" d="{path}"/></svg>"##
        ),
        pixels = pixels,
        size = size,
        path = path
    )
}

/// A PNG of `symbol`: 8-bit grey, [`PNG_SCALE`] pixels a module.
fn png(symbol: &QrCode) -> Vec<u8> {
    let size = (symbol.width() + 2 * QUIET_ZONE) * PNG_SCALE;
    let mut pixels = vec![0xffu8; size * size];
    for (y, x, length) in dark_runs(symbol) {
        for row in 0..PNG_SCALE {
            let top = (y + QUIET_ZONE) * PNG_SCALE + row;
            let left = (x + QUIET_ZONE) * PNG_SCALE;
            pixels[top * size + left..top * size + left + length * PNG_SCALE].fill(0);
        }
    }
    let mut bytes = Vec::new();
    let side = u32::try_from(size).expect("a QR image is at most 1,448 pixels wide");
    let mut encoder = png::Encoder::new(&mut bytes, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .expect("a PNG header is written to memory");
    writer
        .write_image_data(&pixels)
        .expect("the pixels fill the image");
    writer.finish().expect("a PNG is written to memory");
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_and_png_draw_the_same_modules() {
        let symbol = QrCode::with_error_correction_level(b"M2T1.abc.def", EcLevel::M).unwrap();
        let width = symbol.width();
        let colors = symbol.to_colors();
        let dark = colors.iter().filter(|c| **c == Color::Dark).count();
        let drawn: usize = dark_runs(&symbol).iter().map(|(_, _, n)| n).sum();
        assert_eq!(drawn, dark);

        let document = svg(&symbol);
        let tree = roxmltree::Document::parse(&document).unwrap();
        let size = width + 2 * QUIET_ZONE;
        assert_eq!(tree.root_element().tag_name().name(), "svg");
        assert_eq!(
            tree.root_element().attribute("viewBox"),
            Some(format!("0 0 {size} {size}").as_str())
        );

        let image = png(&symbol);
        let decoder = png::Decoder::new(image.as_slice());
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut pixels).unwrap();
        assert_eq!(info.width as usize, size * PNG_SCALE);
        for (i, color) in colors.iter().enumerate() {
            let (x, y) = (i % width + QUIET_ZONE, i / width + QUIET_ZONE);
            let centre = (y * PNG_SCALE + PNG_SCALE / 2) * info.width as usize
                + x * PNG_SCALE
                + PNG_SCALE / 2;
            assert_eq!(pixels[centre] == 0, *color == Color::Dark, "module {i}");
        }
        // The quiet zone is light.
        assert!(pixels[..info.width as usize * QUIET_ZONE * PNG_SCALE]
            .iter()
            .all(|p| *p == 0xff));
    }
}
