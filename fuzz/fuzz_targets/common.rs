// Shared by the targets (included with `include!`): splits an input into header lines and
// a body at the first blank line.

#[allow(dead_code)]
fn split_headers(data: &[u8]) -> (http::HeaderMap, &[u8]) {
    let mut headers = http::HeaderMap::new();
    let cut = data
        .windows(2)
        .position(|w| w == b"\n\n")
        .map(|i| (i, i + 2))
        .unwrap_or((0, 0));
    for line in data[..cut.0].split(|b| *b == b'\n') {
        let Some(colon) = line.iter().position(|b| *b == b':') else { continue };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name),
            http::HeaderValue::from_bytes(value.trim_ascii()),
        ) {
            headers.append(name, value);
        }
    }
    (headers, &data[cut.1..])
}
