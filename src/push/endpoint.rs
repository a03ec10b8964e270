//! API endpoints a user may point elsewhere (a sandbox, a proxy, a local server): `https`
//! anywhere, plain `http` only to a loopback address, so no token ever crosses a network
//! unencrypted.

use std::net::IpAddr;

/// `text` parsed, or why it cannot be an API endpoint.
pub fn checked_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text).map_err(|err| format!("not a URL ({err})"))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(
            "plain http is allowed for loopback addresses only (127.0.0.1, [::1], localhost); use https"
                .to_owned(),
        ),
        other => Err(format!("scheme `{other}` is not http(s)")),
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::checked_url;

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(checked_url("https://merchantapi.googleapis.com").is_ok());
        assert!(checked_url("http://127.0.0.1:8080/").is_ok());
        assert!(checked_url("http://[::1]:8080/").is_ok());
        assert!(checked_url("http://localhost:1/").is_ok());
        assert!(checked_url("http://10.0.0.1/").is_err());
        assert!(checked_url("http://example.com/").is_err());
        assert!(checked_url("ftp://127.0.0.1/").is_err());
        assert!(checked_url("not a url").is_err());
    }
}
