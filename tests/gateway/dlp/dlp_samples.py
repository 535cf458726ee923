"""Made-up credentials in each documented format (random bodies, valid checksums).

Built at run time from a seeded generator so no real-looking secret sits in the repository
for scanners to trip over, and so checksums are right by construction.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import string

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B64URL = ALNUM + "-_"
B64 = ALNUM + "+/"


class Gen:
    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)

    def s(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def github(self, prefix: str = "ghp_") -> str:
        body = self.s(ALNUM, 30)
        crc = binascii.crc32(body.encode())
        digits = ""
        while crc:
            crc, r = divmod(crc, 62)
            digits = _B62[r] + digits
        return prefix + body + digits.rjust(6, "0")

    def workjet(self, prefix: str = "wj_live_") -> str:
        return prefix + base64.urlsafe_b64encode(self.rng.randbytes(32)).decode().rstrip("=")

    def jwt(self) -> str:
        def seg(obj: object) -> str:
            return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

        sig = base64.urlsafe_b64encode(self.rng.randbytes(32)).decode().rstrip("=")
        header, payload = seg({"alg": "HS256", "typ": "JWT"}), seg({"sub": "12345", "name": "Jo"})
        return f"{header}.{payload}.{sig}"

    def pem(self, kind: str = "RSA ") -> str:
        lines = [self.s(B64, 64) for _ in range(6)]
        return (
            f"-----BEGIN {kind}PRIVATE KEY-----\n"
            + "\n".join(lines)
            + f"\n-----END {kind}PRIVATE KEY-----"
        )


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    digits = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    for check in string.digits:
        candidate = digits + check
        total = 0
        for i, ch in enumerate(reversed(candidate)):
            d = int(ch)
            if i % 2:
                d = d * 2 - 9 if d > 4 else d * 2
            total += d
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


def secret_samples() -> list[tuple[str, str, str]]:
    """(type, text, value): ``value`` occurs in ``text`` and is what must be found."""
    g = Gen()
    s = g.s
    out: list[tuple[str, str, str]] = []

    def add(type_: str, value: str, template: str = "value: {} end") -> None:
        out.append((type_, template.format(value), value))

    add("AWS_ACCESS_KEY_ID", "AKIA" + s("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16))
    add("AWS_ACCESS_KEY_ID", "ASIA" + s("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16))
    add("AWS_SECRET_ACCESS_KEY", s(B64, 40), "aws_secret_access_key = {}\n")
    add("AWS_SECRET_ACCESS_KEY", s(B64, 40), 'AWS_SECRET_ACCESS_KEY="{}"')
    add("AWS_MWS_KEY", "amzn.mws." + "-".join(s(HEX, n) for n in (8, 4, 4, 4, 12)))
    add(
        "GCP_SERVICE_ACCOUNT_KEY",
        s(HEX, 40),
        '{{"type": "service_account", "private_key_id": "{}", "client_email": "x"}}',
    )
    add("GOOGLE_API_KEY", "AIza" + s(ALNUM + "_-", 35))
    add("GOOGLE_OAUTH_CLIENT_SECRET", "GOCSPX-" + s(ALNUM + "_-", 28))
    add("GOOGLE_OAUTH_ACCESS_TOKEN", "ya29." + s(ALNUM + "_-", 120))
    add("GOOGLE_OAUTH_REFRESH_TOKEN", "1//0" + s(ALNUM + "_-", 60))
    conn = (
        "DefaultEndpointsProtocol=https;AccountName=acmestore;AccountKey="
        + s(B64, 86)
        + "==;EndpointSuffix=core.windows.net"
    )
    add("AZURE_STORAGE_CONNECTION_STRING", conn, 'conn = "{}"')
    add(
        "AZURE_SHARED_ACCESS_KEY",
        s(B64, 43) + "=",
        "Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=root;SharedAccessKey={}",
    )
    add(
        "AZURE_SAS_TOKEN",
        "sv=2022-11-02&ss=b&srt=sco&sp=rwdlacx&se=2026-01-01T00:00:00Z&spr=https&sig="
        + s(ALNUM, 43)
        + "%3D",
        "https://a.blob.core.windows.net/c?{}",
    )
    add("AZURE_AD_CLIENT_SECRET", s(ALNUM, 3) + "8Q~" + s(ALNUM + "_~.-", 34))
    add("ALIBABA_ACCESS_KEY_ID", "LTAI" + s(ALNUM, 20))
    add("DIGITALOCEAN_TOKEN", "dop_v1_" + s(HEX, 64))
    add("HEROKU_API_KEY", "HRKU-" + s(ALNUM + "_-", 60))
    add("HASHICORP_VAULT_TOKEN", "hvs." + s(ALNUM + "_-", 90))
    add("TERRAFORM_CLOUD_TOKEN", s(ALNUM, 14) + ".atlasv1." + s(ALNUM, 67))
    add("DATABRICKS_TOKEN", "dapi" + s(HEX, 32))
    add("TAILSCALE_KEY", "tskey-auth-" + s(ALNUM, 12) + "-" + s(ALNUM, 32))
    add("OPENAI_API_KEY", "sk-proj-" + s(ALNUM + "_-", 74) + "T3BlbkFJ" + s(ALNUM + "_-", 74))
    add("OPENAI_API_KEY", "sk-" + s(ALNUM, 20) + "T3BlbkFJ" + s(ALNUM, 20))
    add("ANTHROPIC_API_KEY", "sk-ant-api03-" + s(ALNUM + "_-", 93) + "AA")
    add("HUGGINGFACE_TOKEN", "hf_" + s(string.ascii_letters, 34))
    add("GROQ_API_KEY", "gsk_" + s(ALNUM, 52))
    add("REPLICATE_API_TOKEN", "r8_" + s(ALNUM, 37))
    add("PERPLEXITY_API_KEY", "pplx-" + s(ALNUM, 48))
    add("XAI_API_KEY", "xai-" + s(ALNUM, 80))
    add("LANGSMITH_API_KEY", "lsv2_pt_" + s(HEX, 32) + "_" + s(HEX, 10))
    add("GITHUB_PAT", g.github("ghp_"))
    add("GITHUB_OAUTH_TOKEN", g.github("gho_"))
    add("GITHUB_APP_TOKEN", g.github("ghs_"))
    add("GITHUB_APP_TOKEN", g.github("ghu_"))
    add("GITHUB_REFRESH_TOKEN", g.github("ghr_"))
    add("GITHUB_FINE_GRAINED_PAT", "github_pat_" + s(ALNUM, 22) + "_" + s(ALNUM, 59))
    add("GITLAB_PAT", "glpat-" + s(ALNUM + "_-", 20))
    add("GITLAB_PIPELINE_TRIGGER_TOKEN", "glptt-" + s(HEX, 40))
    add("GITLAB_RUNNER_TOKEN", "glrt-" + s(ALNUM + "_-", 20))
    add("GITLAB_TOKEN", "gldt-" + s(ALNUM + "_-", 20))
    add("ATLASSIAN_API_TOKEN", "ATATT3" + s(ALNUM + "_-", 186))
    add("STRIPE_SECRET_KEY", "sk_live_" + s(ALNUM, 99))
    add("STRIPE_SECRET_KEY", "sk_test_" + s(ALNUM, 24))
    add("STRIPE_RESTRICTED_KEY", "rk_live_" + s(ALNUM, 99))
    add("STRIPE_WEBHOOK_SECRET", "whsec_" + s(ALNUM, 32))
    add("SQUARE_ACCESS_TOKEN", "sq0atp-" + s(ALNUM + "_-", 22))
    add("SQUARE_OAUTH_SECRET", "sq0csp-" + s(ALNUM + "_-", 43))
    add("BRAINTREE_ACCESS_TOKEN", "access_token$production$" + s(HEX, 16) + "$" + s(HEX, 32))
    add("SHOPIFY_TOKEN", "shpat_" + s(HEX, 32))
    add(
        "SLACK_TOKEN",
        "xoxb-" + s(string.digits, 12) + "-" + s(string.digits, 13) + "-" + s(ALNUM, 24),
    )
    add(
        "SLACK_TOKEN",
        "xoxp-"
        + s(string.digits, 12)
        + "-"
        + s(string.digits, 12)
        + "-"
        + s(string.digits, 13)
        + "-"
        + s(HEX, 32),
    )
    add(
        "SLACK_APP_TOKEN",
        "xapp-1-A"
        + s("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10)
        + "-"
        + s(string.digits, 13)
        + "-"
        + s(HEX, 64),
    )
    add(
        "SLACK_WEBHOOK_URL",
        "https://hooks.slack.com/services/T"
        + s("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", 8)
        + "/B"
        + s("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", 10)
        + "/"
        + s(ALNUM, 24),
    )
    add("DISCORD_BOT_TOKEN", "M" + s(ALNUM, 25) + "." + s(ALNUM, 6) + "." + s(ALNUM + "_-", 38))
    add(
        "DISCORD_WEBHOOK_URL",
        "https://discord.com/api/webhooks/" + s(string.digits, 18) + "/" + s(ALNUM + "_-", 68),
    )
    add("TELEGRAM_BOT_TOKEN", s(string.digits, 10) + ":AA" + s(ALNUM + "_-", 33))
    add(
        "TEAMS_WEBHOOK_URL",
        "https://acme.webhook.office.com/webhookb2/"
        + s(HEX, 8)
        + "-"
        + s(HEX, 4)
        + "-"
        + s(HEX, 4)
        + "-"
        + s(HEX, 4)
        + "-"
        + s(HEX, 12)
        + "@"
        + s(HEX, 8)
        + "-"
        + s(HEX, 4)
        + "-"
        + s(HEX, 4)
        + "-"
        + s(HEX, 4)
        + "-"
        + s(HEX, 12)
        + "/IncomingWebhook/"
        + s(HEX, 32)
        + "/"
        + s(HEX, 8)
        + "-"
        + s(HEX, 4)
        + "-"
        + s(HEX, 4)
        + "-"
        + s(HEX, 4)
        + "-"
        + s(HEX, 12),
    )
    add("TWITTER_BEARER_TOKEN", "AAAAAAAAAAAAAAAAAAAAA" + s(ALNUM, 20) + "%3D" + s(ALNUM, 50))
    add("TWILIO_API_KEY", "SK" + s(HEX, 32))
    add("TWILIO_AUTH_TOKEN", s(HEX, 32), "TWILIO_AUTH_TOKEN={}")
    add("SENDGRID_API_KEY", "SG." + s(ALNUM + "_-", 22) + "." + s(ALNUM + "_-", 43))
    add("MAILGUN_API_KEY", "key-" + s(HEX, 32))
    add("MAILCHIMP_API_KEY", s(HEX, 32) + "-us14")
    add("BREVO_API_KEY", "xkeysib-" + s(HEX, 64) + "-" + s(ALNUM, 16))
    add("NPM_TOKEN", g.github("npm_"))
    add("PYPI_TOKEN", "pypi-AgEIcHlwaS5vcmc" + s(ALNUM + "_-", 150))
    add("RUBYGEMS_API_KEY", "rubygems_" + s(HEX, 48))
    add("NUGET_API_KEY", "oy2" + s(string.ascii_lowercase + string.digits, 43))
    add("DOCKER_HUB_TOKEN", "dckr_pat_" + s(ALNUM + "_-", 27))
    add("CRATES_IO_TOKEN", "cio" + s(ALNUM, 32))
    add("CLOJARS_TOKEN", "CLOJARS_" + s(string.ascii_lowercase + string.digits, 60))
    add("PACKAGIST_TOKEN", "packagist_uut_" + s(HEX, 68))
    add("ARTIFACTORY_TOKEN", "AKCp" + s(ALNUM, 69))
    add("RSA_PRIVATE_KEY", g.pem("RSA "), "key:\n{}\nthanks")
    add("EC_PRIVATE_KEY", g.pem("EC "), "{}")
    add("OPENSSH_PRIVATE_KEY", g.pem("OPENSSH "), "{}")
    add("PRIVATE_KEY", g.pem(""), "{}")
    add("PRIVATE_KEY", g.pem("").replace("\n", "\\n"), '{{"private_key": "{}"}}')
    add(
        "PGP_PRIVATE_KEY",
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n"
        + s(B64, 64)
        + "\n"
        + s(B64, 64)
        + "\n="
        + s(B64, 4)
        + "\n-----END PGP PRIVATE KEY BLOCK-----",
    )
    add(
        "PUTTY_PRIVATE_KEY",
        "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n"
        "Comment: me\nPublic-Lines: 2\n"
        + s(B64, 64)
        + "\n"
        + s(B64, 20)
        + "\nPrivate-Lines: 1\n"
        + s(B64, 44)
        + "\nPrivate-MAC: "
        + s(HEX, 64),
    )
    add("AGE_SECRET_KEY", "AGE-SECRET-KEY-1" + s("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58))
    add("JWT", g.jwt())
    add(
        "HTTP_BASIC_AUTH",
        base64.b64encode(b"admin:Sup3rS3cret!").decode(),
        "Authorization: Basic {}",
    )
    add("BEARER_TOKEN", s(ALNUM, 40), "Authorization: Bearer {}")
    add(
        "DATABASE_URL_PASSWORD",
        "Xk9" + s(ALNUM, 12),
        "DATABASE_URL=postgresql://app:{}@db.internal:5432/app",
    )
    add("DATABASE_URL_PASSWORD", "Xk9" + s(ALNUM, 12), "mongodb+srv://root:{}@cluster0.x.net/db")
    add("BROKER_URL_PASSWORD", "Xk9" + s(ALNUM, 12), "redis://default:{}@cache:6379/0")
    add("BROKER_URL_PASSWORD", "Xk9" + s(ALNUM, 12), "amqp://guest:{}@mq:5672/")
    add("URL_PASSWORD", "Xk9" + s(ALNUM, 12), "git clone https://bob:{}@git.example.org/r.git")
    add("WORKJET_API_KEY", g.workjet("wj_live_"))
    add("WORKJET_SESSION_TOKEN", g.workjet("wj_sess_"))
    add("NEW_RELIC_KEY", "NRAK-" + s("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 27))
    add("SENTRY_AUTH_TOKEN", "sntryu_" + s(HEX, 64))
    add("DATADOG_API_KEY", s(HEX, 32), "DD_API_KEY={}")
    add("GRAFANA_TOKEN", "glsa_" + s(ALNUM, 32) + "_" + s(HEX, 8))
    add("LINEAR_API_KEY", "lin_api_" + s(ALNUM, 40))
    add("NOTION_TOKEN", "secret_" + s(ALNUM, 43))
    add("FIGMA_TOKEN", "figd_" + s(ALNUM + "_-", 40))
    add("POSTMAN_API_KEY", "PMAK-" + s(HEX, 24) + "-" + s(HEX, 34))
    add("DOPPLER_TOKEN", "dp.pt." + s(ALNUM, 43))
    add("PULUMI_TOKEN", "pul-" + s(HEX, 40))
    add("SUPABASE_TOKEN", "sbp_" + s(HEX, 40))
    add("PLANETSCALE_TOKEN", "pscale_tkn_" + s(ALNUM + "_-", 43))
    add("FLY_IO_TOKEN", "fo1_" + s(ALNUM + "_-", 43))
    add(
        "DYNATRACE_TOKEN",
        "dt0c01."
        + s("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 24)
        + "."
        + s("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 64),
    )
    add("CONTENTFUL_TOKEN", "CFPAT-" + s(ALNUM + "_-", 43))
    add("AIRTABLE_TOKEN", "pat" + s(ALNUM, 14) + "." + s(HEX, 64))
    add("EASYPOST_API_KEY", "EZAK" + s(ALNUM, 54))
    add("SHIPPO_TOKEN", "shippo_live_" + s(HEX, 40))
    add("TYPEFORM_TOKEN", "tfp_" + s(ALNUM + "_-", 59))
    add("PREFECT_API_KEY", "pnu_" + s(ALNUM, 36))
    add("README_API_KEY", "rdme_" + s(string.ascii_lowercase + string.digits, 70))
    add("SOURCEGRAPH_TOKEN", "sgp_" + s(HEX, 16) + "_" + s(HEX, 40))
    add("INFRACOST_API_KEY", "ico-" + s(ALNUM, 32))
    add("CLOUDINARY_URL", "cloudinary://" + s(string.digits, 15) + ":" + s(ALNUM, 27) + "@acme")
    add("ADOBE_CLIENT_SECRET", "p8e-" + s(ALNUM, 32))
    add("AWS_SESSION_TOKEN", "IQoJb3JpZ2luX2VjE" + s(B64, 200), "aws_session_token = {}\n")
    add("AZURE_STORAGE_ACCOUNT_KEY", s(B64, 86) + "==", "AccountKey={};")
    add("CLOUDFLARE_API_TOKEN", s(ALNUM + "_-", 40), "CLOUDFLARE_API_TOKEN={}\n")
    add("COHERE_API_KEY", s(ALNUM, 40), "COHERE_API_KEY={}\n")
    add("BITBUCKET_APP_PASSWORD", "ATBB" + s(ALNUM, 32))
    add("DSA_PRIVATE_KEY", g.pem("DSA "), "{}")
    add("ONEPASSWORD_SERVICE_TOKEN", "ops_eyJ" + s(ALNUM, 300))
    add("MAPBOX_SECRET_TOKEN", "sk.eyJ" + s(ALNUM, 60) + "." + s(ALNUM + "_-", 22))
    add("PASSWORD", "Tr0ub4dor&3x", 'db_password = "{}"')
    add("PASSWORD", "correct-Horse-42", "my password is {}")
    add("GENERIC_SECRET", s(ALNUM, 32), "client_secret: {}")
    add("GENERIC_SECRET", s(ALNUM, 40), 'API_KEY="{}"')
    return out
