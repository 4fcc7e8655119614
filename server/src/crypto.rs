//! Secrets at rest and on the wire: envelope encryption of connector credentials (AES-256-GCM,
//! a random data key per record wrapped by the master key), Argon2id hashes of client secrets,
//! SHA-256 digests of bearer tokens, and random identifiers.

use std::path::Path;

use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use secrecy::{ExposeSecret, ExposeSecretMut, SecretBox, SecretString};

use crate::error::Error;

/// Environment variable holding the master key (base64 of 32 bytes); it wins over the key file.
pub const MASTER_KEY_ENV: &str = "AIRBYTE_SERVER_MASTER_KEY";

const NONCE_LEN: usize = 12;
const KEY_LEN: usize = 32;

/// The key that wraps every data key. Its bytes never leave this type (Debug prints the id).
pub struct MasterKey {
    bytes: SecretBox<[u8; KEY_LEN]>,
    id: String,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl MasterKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        let mut bytes = [0u8; KEY_LEN];
        OsRng.fill_bytes(&mut bytes);
        Self::from_bytes(bytes)
    }

    fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
        let id = hex(&digest.as_ref()[..8]);
        MasterKey {
            bytes: SecretBox::new(Box::new(bytes)),
            id,
        }
    }

    /// Parse the base64 text form (surrounding whitespace ignored).
    pub fn from_base64(text: &str) -> Result<Self, Error> {
        let raw = B64
            .decode(text.trim())
            .map_err(|_| Error::MasterKey("the master key is not valid base64".into()))?;
        let bytes: [u8; KEY_LEN] = raw.try_into().map_err(|v: Vec<u8>| {
            Error::MasterKey(format!(
                "the master key must be {KEY_LEN} bytes, got {}",
                v.len()
            ))
        })?;
        Ok(Self::from_bytes(bytes))
    }

    /// The base64 text form, for writing a key file.
    pub fn to_base64(&self) -> SecretString {
        SecretString::from(B64.encode(self.bytes.expose_secret()))
    }

    /// A short public fingerprint stored beside every wrapped data key.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Read the key from [`MASTER_KEY_ENV`] or else from `file`.
    pub fn load(file: &Path) -> Result<Self, Error> {
        if let Ok(text) = std::env::var(MASTER_KEY_ENV) {
            return Self::from_base64(&text);
        }
        let text = std::fs::read_to_string(file).map_err(|e| {
            Error::MasterKey(format!(
                "cannot read the master key file {}: {e} (run `airbyte-agent-server init`, or set {MASTER_KEY_ENV})",
                file.display()
            ))
        })?;
        Self::from_base64(&text)
    }

    /// Like [`MasterKey::load`], but creates the key file (mode 0600) when neither the variable
    /// nor the file exists. Returns the key and whether it was created.
    pub fn load_or_create(file: &Path) -> Result<(Self, bool), Error> {
        if std::env::var_os(MASTER_KEY_ENV).is_some() || file.exists() {
            return Self::load(file).map(|k| (k, false));
        }
        let key = Self::generate();
        key.write_new(file)?;
        Ok((key, true))
    }

    /// Write the key to a file that must not exist yet (mode 0600 on Unix).
    pub fn write_new(&self, file: &Path) -> Result<(), Error> {
        use std::io::Write as _;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            opts.mode(0o600);
        }
        let fail = |e: std::io::Error| {
            Error::MasterKey(format!(
                "cannot write the master key file {}: {e}",
                file.display()
            ))
        };
        let mut f = opts.open(file).map_err(fail)?;
        f.write_all(self.to_base64().expose_secret().as_bytes())
            .and_then(|()| f.write_all(b"\n"))
            .and_then(|()| f.sync_all())
            .map_err(fail)
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(self.bytes.expose_secret()))
    }
}

/// A connector's credentials sealed for storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// Id of the master key that wrapped the data key.
    pub master_key_id: String,
    /// The data key wrapped by the master key (base64 of nonce || ciphertext).
    pub wrapped_data_key: String,
    /// The plaintext sealed by the data key (base64 of nonce || ciphertext).
    pub ciphertext: String,
}

fn seal_with(cipher: &Aes256Gcm, plaintext: &[u8], aad: &[u8]) -> Result<String, Error> {
    let mut nonce = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);
    let ct = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| Error::Crypto("encryption failed"))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&ct);
    Ok(B64.encode(out))
}

fn open_with(cipher: &Aes256Gcm, sealed: &str, aad: &[u8]) -> Result<Vec<u8>, Error> {
    let raw = B64
        .decode(sealed)
        .map_err(|_| Error::Crypto("stored ciphertext is not base64"))?;
    if raw.len() < NONCE_LEN {
        return Err(Error::Crypto("stored ciphertext is truncated"));
    }
    let (nonce, ct) = raw.split_at(NONCE_LEN);
    cipher
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
        .map_err(|_| Error::Crypto("stored ciphertext does not authenticate"))
}

/// Seal `plaintext` under a fresh data key wrapped by `key`; `aad` binds it to its record.
pub fn seal(key: &MasterKey, plaintext: &[u8], aad: &str) -> Result<Sealed, Error> {
    let mut data_key = SecretBox::new(Box::new([0u8; KEY_LEN]));
    OsRng.fill_bytes(data_key.expose_secret_mut());
    let dk_cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(data_key.expose_secret()));
    Ok(Sealed {
        master_key_id: key.id.clone(),
        wrapped_data_key: seal_with(&key.cipher(), data_key.expose_secret(), aad.as_bytes())?,
        ciphertext: seal_with(&dk_cipher, plaintext, aad.as_bytes())?,
    })
}

fn unwrap_data_key(
    key: &MasterKey,
    s: &Sealed,
    aad: &str,
) -> Result<SecretBox<[u8; KEY_LEN]>, Error> {
    if s.master_key_id != key.id {
        return Err(Error::Crypto(
            "the record was wrapped by another master key (rotate-master-key not finished?)",
        ));
    }
    let raw = open_with(&key.cipher(), &s.wrapped_data_key, aad.as_bytes())?;
    let bytes: [u8; KEY_LEN] = raw
        .try_into()
        .map_err(|_| Error::Crypto("stored data key has the wrong length"))?;
    Ok(SecretBox::new(Box::new(bytes)))
}

/// Open a record sealed by [`seal`].
pub fn open(key: &MasterKey, s: &Sealed, aad: &str) -> Result<SecretBox<Vec<u8>>, Error> {
    let dk = unwrap_data_key(key, s, aad)?;
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(dk.expose_secret()));
    open_with(&cipher, &s.ciphertext, aad.as_bytes()).map(|v| SecretBox::new(Box::new(v)))
}

/// Re-wrap the data key of `s` from `old` to `new`; the sealed credentials are untouched.
pub fn rewrap(old: &MasterKey, new: &MasterKey, s: &Sealed, aad: &str) -> Result<Sealed, Error> {
    let dk = unwrap_data_key(old, s, aad)?;
    Ok(Sealed {
        master_key_id: new.id.clone(),
        wrapped_data_key: seal_with(&new.cipher(), dk.expose_secret(), aad.as_bytes())?,
        ciphertext: s.ciphertext.clone(),
    })
}

/// Argon2id PHC string of a client secret.
pub fn hash_secret(secret: &SecretString) -> Result<String, Error> {
    let mut salt = [0u8; 16];
    OsRng.fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|_| Error::Crypto("salt encoding failed"))?;
    Argon2::default()
        .hash_password(secret.expose_secret().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| Error::Crypto("password hashing failed"))
}

/// Whether `secret` matches the stored PHC string (a malformed hash never matches).
pub fn verify_secret(secret: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(secret.as_bytes(), &h)
            .is_ok()
    })
}

/// SHA-256 (hex) of a bearer token, the form tokens are stored and looked up in.
pub fn token_digest(token: &str) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, token.as_bytes()).as_ref())
}

/// HMAC-SHA-256 (hex) of `data` under a key derived from `key` for `purpose`: a digest of
/// secret-bearing text (a create request's body) that reveals nothing without the master key.
pub fn keyed_digest(key: &MasterKey, purpose: &str, data: &[u8]) -> String {
    let sub = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.bytes.expose_secret()),
        purpose.as_bytes(),
    );
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, sub.as_ref());
    hex(ring::hmac::sign(&k, data).as_ref())
}

/// `n` random bytes as lower-case hex.
pub fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    OsRng.fill_bytes(&mut b);
    hex(&b)
}

/// A random (version 4) UUID.
pub fn uuid_v4() -> String {
    let mut b = [0u8; 16];
    OsRng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Whether `a` and `b` are equal, in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_rewrap() {
        let k1 = MasterKey::generate();
        let k2 = MasterKey::generate();
        let s = seal(&k1, b"{\"api_key\":\"sk_1\"}", "conn-1").unwrap();
        assert!(!s.ciphertext.contains("sk_1"));
        assert_eq!(
            open(&k1, &s, "conn-1").unwrap().expose_secret().as_slice(),
            b"{\"api_key\":\"sk_1\"}"
        );
        assert!(open(&k1, &s, "conn-2").is_err(), "bound to its record");
        assert!(open(&k2, &s, "conn-1").is_err());
        let r = rewrap(&k1, &k2, &s, "conn-1").unwrap();
        assert_eq!(r.ciphertext, s.ciphertext);
        assert_eq!(r.master_key_id, k2.id());
        assert!(open(&k2, &r, "conn-1").is_ok());
        assert!(open(&k1, &r, "conn-1").is_err());
    }

    #[test]
    fn key_text_and_debug() {
        let k = MasterKey::generate();
        let back = MasterKey::from_base64(k.to_base64().expose_secret()).unwrap();
        assert_eq!(back.id(), k.id());
        assert!(!format!("{k:?}").contains(k.to_base64().expose_secret()));
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
        assert!(MasterKey::from_base64("not base64!").is_err());
    }

    #[test]
    fn secrets_and_ids() {
        let h = hash_secret(&SecretString::from("s3cret")).unwrap();
        assert!(verify_secret("s3cret", &h));
        assert!(!verify_secret("other", &h));
        assert!(!verify_secret("s3cret", "garbage"));
        assert_eq!(token_digest("a").len(), 64);
        let u = uuid_v4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
    }
}
