//! The JP2 file format (ITU-T T.800 Annex I): the codestream inside a few boxes that say what the
//! samples mean. Each box is a 4-byte length (counting the whole box), a 4-byte type and its
//! content. A JP2 file is the signature box (I.5.1), the file type box (I.5.2, brand `jp2 `), the
//! JP2 header box (I.5.3) holding the image header box (I.5.3.1) and the colour specification box
//! (I.5.3.3, an enumerated colour space: 16 sRGB, 17 greyscale), then the contiguous codestream box
//! (I.5.4).

fn put_box(out: &mut Vec<u8>, kind: &[u8; 4], content: &[u8]) {
    out.extend_from_slice(&(8 + content.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(content);
}

/// Wraps `codestream` (a `width` × `height` image of `components` unsigned 8-bit components: 1
/// greyscale, 3 sRGB) in a JP2 file.
pub(crate) fn wrap(codestream: &[u8], width: u32, height: u32, components: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(codestream.len() + 85);
    put_box(&mut out, b"jP  ", &[0x0D, 0x0A, 0x87, 0x0A]);
    // Brand `jp2 `, minor version 0, compatible with `jp2 `.
    put_box(&mut out, b"ftyp", b"jp2 \0\0\0\0jp2 ");

    let mut ihdr = Vec::with_capacity(14);
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&components.to_be_bytes());
    // Bit depth − 1 (unsigned 8-bit), compression type 7 (JPEG 2000), colour space known, no
    // intellectual property box.
    ihdr.extend_from_slice(&[7, 7, 0, 0]);
    let colour_space: u32 = if components == 1 { 17 } else { 16 };
    // Method 1 (enumerated), precedence 0, approximation 0.
    let mut colr = vec![1, 0, 0];
    colr.extend_from_slice(&colour_space.to_be_bytes());
    let mut header = Vec::new();
    put_box(&mut header, b"ihdr", &ihdr);
    put_box(&mut header, b"colr", &colr);
    put_box(&mut out, b"jp2h", &header);

    put_box(&mut out, b"jp2c", codestream);
    out
}
