//! `GET /tickets/{ticket_id}/qr.svg` and `/qr.png`: the images are read back to a code, which must
//! check as the ticket's.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use m2sec_proto::AwsError;
use serde_json::{json, Value};

use super::{assert_nowhere, world, World};
use crate::testing::{self, body, logs_of, token};
use crate::Handler;

fn event(ticket_id: &str, file: &str, token: Option<&str>) -> Value {
    testing::request(
        "GET",
        &format!("/tickets/{ticket_id}/{file}"),
        json!({"ticket_id": ticket_id}),
        None,
        token,
    )
}

impl World {
    async fn qr(&self, ticket_id: &str, file: &str) -> Value {
        let event = event(ticket_id, file, Some(&token("admin1", "admin")));
        self.gates
            .invoke(&testing::function(Handler::TicketQr), event)
            .await
    }
}

/// The text of the one QR code in a grey image of `width` pixels a row.
fn read_qr(width: usize, height: usize, grey: impl Fn(usize, usize) -> u8) -> String {
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, grey);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    grids[0].decode().unwrap().1
}

/// The dark modules an SVG of the handler draws, as a grid of `size` modules a side.
fn svg_modules(document: &str) -> (usize, Vec<bool>) {
    let tree = roxmltree::Document::parse(document).unwrap();
    let root = tree.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    let view_box: Vec<usize> = root
        .attribute("viewBox")
        .unwrap()
        .split(' ')
        .map(|n| n.parse().unwrap())
        .collect();
    let size = view_box[2];
    let path = root
        .descendants()
        .find(|n| n.has_tag_name("path"))
        .unwrap()
        .attribute("d")
        .unwrap();
    let mut dark = vec![false; size * size];
    for run in path.split('M').filter(|r| !r.is_empty()) {
        // "x,yhNv1h-Nz"
        let (x, rest) = run.split_once(',').unwrap();
        let (y, rest) = rest.split_once('h').unwrap();
        let (length, _) = rest.split_once('v').unwrap();
        let (x, y, length): (usize, usize, usize) = (
            x.parse().unwrap(),
            y.parse().unwrap(),
            length.parse().unwrap(),
        );
        dark[y * size + x..y * size + x + length].fill(true);
    }
    (size, dark)
}

#[tokio::test]
async fn the_svg_is_a_qr_code_of_a_valid_code_for_the_ticket() {
    let w = world();
    let (ticket_id, issued_code) = w.issued(Some("MA-ID-AB123456")).await;
    let result = w.qr(&ticket_id, "qr.svg").await;
    assert_eq!(result["statusCode"], 200, "{result}");
    assert_eq!(result["headers"]["Content-Type"], "image/svg+xml");
    assert_eq!(result["headers"]["Cache-Control"], "no-store");
    assert_eq!(result["isBase64Encoded"], false);

    let (size, dark) = svg_modules(result["body"].as_str().unwrap());
    const SCALE: usize = 4;
    let code = read_qr(size * SCALE, size * SCALE, |x, y| {
        if dark[(y / SCALE) * size + x / SCALE] {
            0
        } else {
            255
        }
    });
    assert!(code.starts_with("M2T1."), "{code}");
    // Signed anew: another signature of the same claims.
    assert_ne!(code, issued_code);
    assert_eq!(
        code.rsplit_once('.').unwrap().0,
        issued_code.rsplit_once('.').unwrap().0
    );
    let claims = w.check(&code).await.unwrap();
    assert_eq!(claims, w.check(&issued_code).await.unwrap());

    let audit = testing::audit_items(&w.fake);
    let qr = audit.iter().find(|a| a["action"]["S"] == "qr").unwrap();
    assert_eq!(qr["kind"], json!({"S": "ticket"}));
    assert_eq!(qr["ticketId"], json!({"S": ticket_id}));
    assert_nowhere(&w.fake, &["MA-ID-AB123456", &code, &issued_code]);
}

#[tokio::test]
async fn the_png_is_a_qr_code_of_a_valid_code_for_the_ticket() {
    let w = world();
    let (ticket_id, _) = w.issued(None).await;
    let result = w.qr(&ticket_id, "qr.png").await;
    assert_eq!(result["statusCode"], 200, "{result}");
    assert_eq!(result["headers"]["Content-Type"], "image/png");
    assert_eq!(result["headers"]["Cache-Control"], "no-store");
    assert_eq!(result["isBase64Encoded"], true);
    let bytes = STANDARD.decode(result["body"].as_str().unwrap()).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");

    let mut reader = png::Decoder::new(bytes.as_slice()).read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    let (width, height) = (info.width as usize, info.height as usize);
    let code = read_qr(width, height, |x, y| pixels[y * width + x]);
    let claims = w.check(&code).await.unwrap();
    assert_eq!(claims.ticket_id, ticket_id);
    assert_eq!(claims.key_id, w.key);
}

#[tokio::test]
async fn no_such_ticket_or_image_is_404() {
    let w = world();
    let result = w.qr("TNOSUCHTICKET", "qr.svg").await;
    assert_eq!(result["statusCode"], 404);
    assert_eq!(
        result["body"],
        r#"{"ok":false,"message":"Ticket TNOSUCHTICKET does not exist"}"#
    );
    let (ticket_id, _) = w.issued(None).await;
    let result = w.qr(&ticket_id, "qr.gif").await;
    assert_eq!(result["statusCode"], 404);
    assert_eq!(body(&result)["ok"], false);
    assert_eq!(w.fake.calls_of("Sign").len(), 1, "only the issue signed");
}

#[tokio::test]
async fn only_admins_get_qr_images() {
    testing::assert_only_for(Handler::TicketQr, &["admin"], |token| {
        event("T123", "qr.png", token)
    })
    .await;
}

#[tokio::test]
async fn a_kms_failure_is_500() {
    let w = world();
    let (ticket_id, _) = w.issued(None).await;
    w.fake.fail(
        "kms",
        "Sign",
        AwsError::new("AccessDeniedException", 400, "not allowed: kms:Sign"),
    );
    let (result, logs) = logs_of(w.qr(&ticket_id, "qr.svg")).await;
    assert_eq!(result["statusCode"], 500);
    assert_eq!(body(&result)["message"], "Internal error");
    assert!(logs.contains("AccessDeniedException"), "{logs}");
}
