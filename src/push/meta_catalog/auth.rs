//! The credentials every Graph call carries: the system user's access token and, when the
//! app secret is known, `appsecret_proof`, the hex HMAC-SHA256 of the token keyed by the
//! app secret (Graph API "Securing requests"). Both stay [`Secret`]s: neither is ever
//! printed, and they travel in request bodies or queries whose URLs are never printed.

use hmac::{KeyInit, Mac};

use crate::push::secret::{self, Secret, SecretError};

pub(super) struct Credentials {
    pub(super) token: Secret,
    pub(super) proof: Option<Secret>,
}

impl Credentials {
    /// Reads the token from `token_env` (required) and the app secret from
    /// `app_secret_env` (optional).
    pub(super) fn from_env(token_env: &str, app_secret_env: &str) -> Result<Self, SecretError> {
        let token = secret::from_env(token_env, "Meta system-user access token")?;
        let proof = secret::from_env_if_set(app_secret_env, "Meta app secret")?
            .map(|app_secret| appsecret_proof(&app_secret, &token));
        Ok(Credentials { token, proof })
    }

    /// The form or query pairs that authenticate a call.
    pub(super) fn pairs(&self) -> Vec<(&'static str, &str)> {
        let mut pairs = vec![("access_token", self.token.expose())];
        if let Some(proof) = &self.proof {
            pairs.push(("appsecret_proof", proof.expose()));
        }
        pairs
    }
}

/// Hex HMAC-SHA256 of `token`, keyed by `app_secret`.
pub(super) fn appsecret_proof(app_secret: &Secret, token: &Secret) -> Secret {
    // HMAC takes a key of any length; this cannot fail.
    let mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(app_secret.expose().as_bytes())
        .map(|mac| mac.chain_update(token.expose().as_bytes()).finalize())
        .map(|out| out.into_bytes());
    let hex = match mac {
        Ok(bytes) => bytes.iter().map(|b| format!("{b:02x}")).collect(),
        Err(_) => String::new(),
    };
    Secret::new(hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proof_is_hex_hmac_sha256_of_the_token_keyed_by_the_app_secret() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let proof = appsecret_proof(
            &Secret::new("Jefe".into()),
            &Secret::new("what do ya want for nothing?".into()),
        );
        assert_eq!(
            proof.expose(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
