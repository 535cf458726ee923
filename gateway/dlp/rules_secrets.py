"""Credential detectors: provider token formats, key blocks, URLs with passwords.

Patterns are RE2 syntax with bounded repetitions; group 1 is the value. Prefix-based
formats are precise on their own, so their validators only reject documentation/test
values and low-entropy fillers; formats without a prefix are anchored on a keyword.
"""

from __future__ import annotations

import base64
import binascii

from gateway.dlp.detector import Check, Detector, Probe
from gateway.dlp.validators import (
    base62_crc32_ok,
    canonical_b64url_32,
    jwt_ok,
    looks_like_test_value,
    password_value_ok,
    shannon_entropy,
    url_password_ok,
)

_TAIL = r"(?:[^A-Za-z0-9_\-]|$)"  # the token does not continue
_ASSIGN = r"[\"']?\s{0,4}(?::=|=>|=|:)\s{0,4}[\"'`]?"


def token(min_entropy: float = 3.0) -> Check:
    def check(value: str, probe: Probe) -> bool:
        if probe.ignore_test_values and looks_like_test_value(value):
            return False
        return shannon_entropy(value) >= min_entropy

    return check


def _github(value: str, probe: Probe) -> bool:
    return base62_crc32_ok(value)


def _workjet(value: str, probe: Probe) -> bool:
    return canonical_b64url_32(value[8:])


def _jwt(value: str, probe: Probe) -> bool:
    return jwt_ok(value)


def _basic_auth(value: str, probe: Probe) -> bool:
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
        text = decoded.decode("utf-8")
    except (binascii.Error, ValueError):
        return False
    user, sep, password = text.partition(":")
    return bool(sep and user and url_password_ok(password))


def _url_password(value: str, probe: Probe) -> bool:
    return url_password_ok(value)


def _assignment(value: str, probe: Probe) -> bool:
    key = probe.whole.split(value, 1)[0].lower()
    if probe.ignore_test_values and looks_like_test_value(value):
        return False
    return password_value_ok(value, key)


def _prose_password(value: str, probe: Probe) -> bool:
    return password_value_ok(value, "password")


def _pem(kind: str, name: str) -> Detector:
    body = r"(?:[A-Za-z0-9+/=\s]|\\[nr]|Proc-Type:[^\n\\]{0,40}|DEK-Info:[^\n\\]{0,80}"
    body += r"|Comment:[^\n\\]{0,100}|Version:[^\n\\]{0,60})"
    pattern = (
        rf"(-----BEGIN {kind}PRIVATE KEY-----{body}*"
        rf"(?:-----END {kind}PRIVATE KEY-----)?)"
    )
    return Detector(name, "secret", pattern, priority=110, max_len=16384)


def _s(
    type_: str, pattern: str, check: Check | None = None, priority: int = 100,
    max_len: int = 256, group: int = 1, hint: str = "",
) -> Detector:
    return Detector(
        type_, "secret", pattern, check or token(), group, priority, max_len, hint=hint
    )


SECRET_DETECTORS: tuple[Detector, ...] = (
    # --- cloud
    _s("AWS_ACCESS_KEY_ID",
       r"\b((?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z2-7]{16})\b"),
    _s("AWS_SECRET_ACCESS_KEY",
       r"(?i)aws.{0,24}?(?:secret|private).{0,24}?" + _ASSIGN
       + r"([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)", token(3.5)),
    _s("AWS_SESSION_TOKEN",
       r"(?i)aws.?session.?token" + _ASSIGN + r"([A-Za-z0-9/+=]{100,})", max_len=2048),
    _s("AWS_MWS_KEY",
       r"\b(amzn\.mws\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b"),
    _s("GCP_SERVICE_ACCOUNT_KEY", r"\"private_key_id\"\s{0,4}:\s{0,4}\"([0-9a-f]{40})\"",
       hint=r'"private_key_id"'),
    _s("GOOGLE_API_KEY", r"\b(AIza[0-9A-Za-z_\-]{35})" + _TAIL),
    _s("GOOGLE_OAUTH_CLIENT_SECRET", r"\b(GOCSPX-[A-Za-z0-9_\-]{28})" + _TAIL),
    _s("GOOGLE_OAUTH_ACCESS_TOKEN", r"\b(ya29\.[0-9A-Za-z_\-]{30,})", max_len=2100),
    _s("GOOGLE_OAUTH_REFRESH_TOKEN", r"\b(1//0[0-9A-Za-z_\-]{40,})", max_len=520),
    _s("AZURE_STORAGE_CONNECTION_STRING",
       r"(?i)(DefaultEndpointsProtocol=https?;AccountName=[a-z0-9]{3,24};"
       r"AccountKey=[A-Za-z0-9+/]{86}==(?:;EndpointSuffix=[a-z0-9.]{1,60})?)", priority=105),
    _s("AZURE_STORAGE_ACCOUNT_KEY", r"(?i)AccountKey=([A-Za-z0-9+/]{86}==)"),
    _s("AZURE_SHARED_ACCESS_KEY", r"(?i)SharedAccessKey=([A-Za-z0-9+/]{42,43}=)"),
    _s("AZURE_SAS_TOKEN",
       r"(sv=\d{4}-\d{2}-\d{2}&(?:[a-z]{2,5}=[^&\s\"'<>]{1,60}&){0,10}"
       r"sig=[A-Za-z0-9%+/]{30,100}(?:%3D|=){0,2})", max_len=1400),
    _s("AZURE_AD_CLIENT_SECRET",
       r"(?:^|[^A-Za-z0-9_~.\-])([A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34})"
       r"(?:[^A-Za-z0-9_~.\-]|$)", hint=r"\dQ~"),
    _s("ALIBABA_ACCESS_KEY_ID", r"\b(LTAI[A-Za-z0-9]{12,20})\b"),
    _s("DIGITALOCEAN_TOKEN", r"\b(do[opr]_v1_[a-f0-9]{64})\b", hint=r"do[opr]_v1_"),
    _s("HEROKU_API_KEY", r"\b(HRKU-[A-Za-z0-9_\-]{60})" + _TAIL),
    _s("HEROKU_API_KEY",
       r"(?i)heroku.{0,24}?(?:key|token)" + _ASSIGN
       + r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b"),
    _s("CLOUDFLARE_API_TOKEN",
       r"(?i)(?:cloudflare|cf)_?(?:api)?_?(?:token|key)" + _ASSIGN + r"([A-Za-z0-9_\-]{37,40})"
       + _TAIL, token(3.5)),
    _s("HASHICORP_VAULT_TOKEN", r"\b(hv[sb]\.[A-Za-z0-9_\-]{24,})" + _TAIL, hint=r"hv[sb]\."),
    _s("TERRAFORM_CLOUD_TOKEN", r"\b([A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_\-=]{60,70})",
       hint=r"\.atlasv1\."),
    _s("DATABRICKS_TOKEN", r"\b(dapi[a-f0-9]{32}(?:-\d)?)\b"),
    _s("TAILSCALE_KEY",
       r"\b(tskey-(?:auth|api|client|scim|webhook)-[A-Za-z0-9]{6,20}-[A-Za-z0-9]{20,64})\b"),
    # --- AI providers
    _s("OPENAI_API_KEY",
       r"\b(sk-(?:(?:proj|svcacct|admin)-)?[A-Za-z0-9_\-]{16,}T3BlbkFJ[A-Za-z0-9_\-]{16,})"
       + _TAIL, max_len=420),
    _s("OPENAI_API_KEY", r"\b(sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{58,})" + _TAIL,
       token(4.0), max_len=260),
    _s("ANTHROPIC_API_KEY", r"\b(sk-ant-(?:api|admin|oat|ort)\d{2}-[A-Za-z0-9_\-]{80,})"
       + _TAIL),
    _s("HUGGINGFACE_TOKEN", r"\b((?:hf|api_org)_[A-Za-z0-9]{34})\b", token(3.5)),
    _s("GROQ_API_KEY", r"\b(gsk_[A-Za-z0-9]{52})\b"),
    _s("REPLICATE_API_TOKEN", r"\b(r8_[A-Za-z0-9]{37})\b"),
    _s("PERPLEXITY_API_KEY", r"\b(pplx-[A-Za-z0-9]{48})\b"),
    _s("XAI_API_KEY", r"\b(xai-[A-Za-z0-9]{80})\b"),
    _s("LANGSMITH_API_KEY", r"\b(lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10})\b"),
    _s("COHERE_API_KEY", r"(?i)(?:cohere|co)_?api_?key" + _ASSIGN + r"([A-Za-z0-9]{40})\b",
       token(3.5)),
    # --- code hosting
    _s("GITHUB_PAT", r"\b(ghp_[A-Za-z0-9]{36})\b", _github),
    _s("GITHUB_OAUTH_TOKEN", r"\b(gho_[A-Za-z0-9]{36})\b", _github),
    _s("GITHUB_APP_TOKEN", r"\b(gh[us]_[A-Za-z0-9]{36})\b", _github, hint=r"gh[us]_"),
    _s("GITHUB_REFRESH_TOKEN", r"\b(ghr_[A-Za-z0-9]{36})\b", _github),
    _s("GITHUB_FINE_GRAINED_PAT", r"\b(github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b"),
    _s("GITLAB_PAT",
       r"\b(glpat-[A-Za-z0-9_\-]{20,}(?:\.[0-9a-z]{2}\.[a-z0-9]{9})?)" + _TAIL),
    _s("GITLAB_PIPELINE_TRIGGER_TOKEN", r"\b(glptt-[0-9a-f]{40})\b"),
    _s("GITLAB_RUNNER_TOKEN", r"\b((?:glrt-|GR1348941)[A-Za-z0-9_\-]{20,})" + _TAIL),
    _s("GITLAB_TOKEN",
       r"\b((?:gldt|glcbt|glsoat|glffct|glimt|glagent|gloas)-[A-Za-z0-9_\-]{20,})" + _TAIL),
    _s("ATLASSIAN_API_TOKEN", r"\b(ATATT3[A-Za-z0-9_\-=]{180,})"),
    _s("BITBUCKET_APP_PASSWORD", r"\b(ATBB[A-Za-z0-9_\-=]{28,40})\b"),
    # --- payments and commerce
    _s("STRIPE_SECRET_KEY", r"\b(sk_(?:live|test)_[A-Za-z0-9]{24,})\b"),
    _s("STRIPE_RESTRICTED_KEY", r"\b(rk_(?:live|test)_[A-Za-z0-9]{24,})\b"),
    _s("STRIPE_WEBHOOK_SECRET", r"\b(whsec_[A-Za-z0-9+/]{32,88})"),
    _s("SQUARE_ACCESS_TOKEN", r"\b(sq0atp-[A-Za-z0-9_\-]{22})" + _TAIL),
    _s("SQUARE_ACCESS_TOKEN", r"\b(EAAA[A-Za-z0-9_\-+=]{60})" + _TAIL, token(3.5)),
    _s("SQUARE_OAUTH_SECRET", r"\b(sq0csp-[A-Za-z0-9_\-]{43})" + _TAIL),
    _s("BRAINTREE_ACCESS_TOKEN",
       r"\b(access_token\$(?:production|sandbox)\$[0-9a-z]{16}\$[0-9a-f]{32})\b"),
    _s("SHOPIFY_TOKEN", r"\b(shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32})\b"),
    # --- messaging and email
    _s("SLACK_TOKEN", r"\b(xox[baprse]-(?:[0-9]{6,20}-){1,3}[A-Za-z0-9\-]{8,})" + _TAIL),
    _s("SLACK_TOKEN", r"\b(xoxe\.xox[bp]-\d-[A-Za-z0-9]{100,})\b"),
    _s("SLACK_APP_TOKEN", r"\b(xapp-\d-[A-Z0-9]{6,20}-\d{6,20}-[a-f0-9]{32,80})\b"),
    _s("SLACK_WEBHOOK_URL",
       r"(https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_\-]{20,120})",
       token(3.0)),
    _s("DISCORD_BOT_TOKEN",
       r"\b([MNO][A-Za-z0-9_\-]{23,27}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,38})" + _TAIL,
       hint=r"\.[A-Za-z0-9_\-]{6}\."),
    _s("DISCORD_WEBHOOK_URL",
       r"(https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d{5,30}/"
       r"[A-Za-z0-9_\-]{60,68})"),
    _s("TELEGRAM_BOT_TOKEN", r"\b(\d{8,10}:AA[A-Za-z0-9_\-]{33})" + _TAIL, hint=r"\d:AA"),
    _s("TEAMS_WEBHOOK_URL",
       r"(https://[a-z0-9\-]{1,60}\.webhook\.office\.com/webhookb2/[A-Za-z0-9@\-]{36,100}"
       r"/IncomingWebhook/[a-f0-9]{32}/[A-Za-z0-9\-]{36}(?:/[A-Za-z0-9_\-]{10,80})?)",
       max_len=400),
    _s("TWITTER_BEARER_TOKEN", r"\b(AAAAAAAAAAAAAAAAAAAAA[A-Za-z0-9%]{30,200})", token(3.0),
       hint="AAAAAAAAAAAAAAAAAAAAA"),
    _s("TWILIO_API_KEY", r"\b(SK[0-9a-fA-F]{32})\b", hint=r"SK[0-9a-fA-F]"),
    _s("TWILIO_AUTH_TOKEN",
       r"(?i)twilio.{0,24}?(?:auth|token|secret)" + _ASSIGN + r"([0-9a-f]{32})\b"),
    _s("SENDGRID_API_KEY", r"\b(SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43})" + _TAIL),
    _s("MAILGUN_API_KEY", r"\b(key-[0-9a-f]{32})\b"),
    _s("MAILCHIMP_API_KEY", r"\b([0-9a-f]{32}-us\d{1,2})\b", hint=r"-us\d"),
    _s("BREVO_API_KEY", r"\b(xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16})\b"),
    # --- package registries
    _s("NPM_TOKEN", r"\b(npm_[A-Za-z0-9]{36})\b", _github),
    _s("PYPI_TOKEN", r"\b(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,})", max_len=320),
    _s("PYPI_TOKEN", r"\b(pypi-AgENdGVzdC5weXBpLm9yZw[A-Za-z0-9_\-]{50,})", max_len=320),
    _s("RUBYGEMS_API_KEY", r"\b(rubygems_[a-f0-9]{48})\b"),
    _s("NUGET_API_KEY", r"\b(oy2[a-z0-9]{43})\b"),
    _s("DOCKER_HUB_TOKEN", r"\b(dckr_(?:pat|oat)_[A-Za-z0-9_\-]{27,40})" + _TAIL),
    _s("CRATES_IO_TOKEN", r"\b(cio[A-Za-z0-9]{32})\b", token(3.5)),
    _s("CLOJARS_TOKEN", r"\b(CLOJARS_[a-z0-9]{60})\b"),
    _s("PACKAGIST_TOKEN", r"\b(packagist_[ou][ru]t_[a-f0-9]{68})\b"),
    _s("ARTIFACTORY_TOKEN", r"\b(AKCp[A-Za-z0-9]{69})\b"),
    # --- private keys
    _pem("RSA ", "RSA_PRIVATE_KEY"),
    _pem("EC ", "EC_PRIVATE_KEY"),
    _pem("DSA ", "DSA_PRIVATE_KEY"),
    _pem("OPENSSH ", "OPENSSH_PRIVATE_KEY"),
    _pem("", "PRIVATE_KEY"),
    _pem("ENCRYPTED ", "PRIVATE_KEY"),
    Detector("PGP_PRIVATE_KEY", "secret",
             r"(-----BEGIN PGP PRIVATE KEY BLOCK-----(?:[A-Za-z0-9+/=\s]|\\[nr]"
             r"|[A-Za-z]{2,20}:[^\n\\]{0,100})*(?:-----END PGP PRIVATE KEY BLOCK-----)?)",
             priority=110, max_len=40960),
    Detector("PUTTY_PRIVATE_KEY", "secret",
             r"(PuTTY-User-Key-File-[23]:[\s\S]*?Private-MAC: [0-9a-f]{40,64})",
             priority=110, max_len=12288),
    _s("AGE_SECRET_KEY", r"\b(AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})\b"),
    # --- tokens in general
    _s("JWT",
       r"\b(eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{16,})"
       + _TAIL, _jwt, priority=95, max_len=26624),
    _s("HTTP_BASIC_AUTH",
       r"(?i)\bauthorization\s{0,4}[:=]\s{0,4}[\"']?basic\s{1,4}([A-Za-z0-9+/]{8,400}={0,2})",
       _basic_auth, priority=90),
    _s("BEARER_TOKEN", r"(?i)\bbearer\s{1,4}([A-Za-z0-9_\-.~+/]{24,}=*)", token(3.5),
       priority=30, max_len=2100),
    # --- URLs with passwords
    _s("DATABASE_URL_PASSWORD",
       r"(?i)\b(?:jdbc:)?(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|mssql|sqlserver"
       r"|oracle|cockroachdb|clickhouse|couchdb|neo4j(?:\+s)?|db2|redshift|snowflake)"
       r"(?:\+[a-z0-9]{1,20})?://[^\s:/@\"'<>]{0,100}:([^\s@/\"'<>]{1,200})@[A-Za-z0-9.\-\[\]]",
       _url_password, priority=90, max_len=400, hint=r"(?i)(?:postgres|mysql|mariadb|mongodb|mssql|sqlserver|oracle|cockroachdb|clickhouse|couchdb|neo4j|db2|redshift|snowflake)[a-z0-9+]{0,20}://"),
    _s("BROKER_URL_PASSWORD",
       r"(?i)\b(?:rediss?|amqps?|mqtts?|kafka|nats|stomp|memcached?|sentinel)"
       r"://[^\s:/@\"'<>]{0,100}:([^\s@/\"'<>]{1,200})@[A-Za-z0-9.\-\[\]]",
       _url_password, priority=90, max_len=400, hint=r"(?i)(?:redis|amqp|mqtt|kafka|nats|stomp|memcached?|sentinel)s?://"),
    _s("URL_PASSWORD",
       r"(?i)\b(?:https?|ftps?|sftp|ssh|smtps?|imaps?|ldaps?|git|svn|wss?)"
       r"://[^\s:/@\"'<>]{1,100}:([^\s@/\"'<>]{1,200})@[A-Za-z0-9.\-\[\]]",
       _url_password, priority=85, max_len=400, hint=r"(?i)(?:https?|ftps?|sftp|ssh|smtps?|imaps?|ldaps?|git|svn|wss?)://[^\s/@]"),
    # --- Workjet's own credentials
    _s("WORKJET_API_KEY", r"\b(wj_live_[A-Za-z0-9_\-]{43})" + _TAIL, _workjet, priority=120),
    _s("WORKJET_SESSION_TOKEN", r"\b(wj_sess_[A-Za-z0-9_\-]{43})" + _TAIL, _workjet,
       priority=120),
    # --- more SaaS formats
    _s("NEW_RELIC_KEY", r"\b(NR(?:AK|II|AA|JS)-[A-Za-z0-9]{27,32})\b", hint=r"NR(?:AK|II|AA|JS)-"),
    _s("SENTRY_AUTH_TOKEN", r"\b(sntry[su]_[A-Za-z0-9_\-=+/.]{60,})"),
    _s("DATADOG_API_KEY",
       r"(?i)(?:datadog|dd)_?(?:api|app)_?key" + _ASSIGN + r"([a-f0-9]{32}|[a-f0-9]{40})\b"),
    _s("GRAFANA_TOKEN", r"\b(glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})\b"),
    _s("GRAFANA_TOKEN", r"\b(glc_[A-Za-z0-9+/]{32,}={0,2})"),
    _s("LINEAR_API_KEY", r"\b(lin_api_[A-Za-z0-9]{40})\b"),
    _s("NOTION_TOKEN", r"\b((?:secret|ntn)_[A-Za-z0-9]{43,46})\b", token(3.5)),
    _s("FIGMA_TOKEN", r"\b(fig[dou]_[A-Za-z0-9_\-]{40,})" + _TAIL),
    _s("POSTMAN_API_KEY", r"\b(PMAK-[a-f0-9]{24}-[a-f0-9]{34})\b"),
    _s("DOPPLER_TOKEN", r"\b(dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44})\b"),
    _s("PULUMI_TOKEN", r"\b(pul-[a-f0-9]{40})\b"),
    _s("SUPABASE_TOKEN", r"\b(sbp_[a-f0-9]{40})\b"),
    _s("PLANETSCALE_TOKEN", r"\b(pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_\-.=]{32,64})"),
    _s("FLY_IO_TOKEN", r"\b(fo1_[A-Za-z0-9_\-]{43})" + _TAIL),
    _s("DYNATRACE_TOKEN", r"\b(dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64})\b"),
    _s("CONTENTFUL_TOKEN", r"\b(CFPAT-[A-Za-z0-9_\-]{43})" + _TAIL),
    _s("AIRTABLE_TOKEN", r"\b(pat[A-Za-z0-9]{14}\.[a-f0-9]{64})\b"),
    _s("EASYPOST_API_KEY", r"\b(EZ[AT]K[A-Za-z0-9]{54})\b", hint=r"EZ[AT]K"),
    _s("SHIPPO_TOKEN", r"\b(shippo_(?:live|test)_[a-f0-9]{40})\b"),
    _s("TYPEFORM_TOKEN", r"\b(tfp_[A-Za-z0-9_\-.=]{59})"),
    _s("PREFECT_API_KEY", r"\b(pnu_[A-Za-z0-9]{36})\b"),
    _s("README_API_KEY", r"\b(rdme_[a-z0-9]{70})\b"),
    _s("SOURCEGRAPH_TOKEN", r"\b(sgp_(?:[a-f0-9]{16}_)?[a-f0-9]{40})\b"),
    _s("ONEPASSWORD_SERVICE_TOKEN", r"\b(ops_eyJ[A-Za-z0-9_\-+/=]{100,})", max_len=2100),
    _s("MAPBOX_SECRET_TOKEN", r"\b(sk\.eyJ[A-Za-z0-9_\-]{20,}\.[A-Za-z0-9_\-]{20,100})"),
    _s("INFRACOST_API_KEY", r"\b(ico-[A-Za-z0-9]{32})\b"),
    _s("CLOUDINARY_URL", r"(cloudinary://\d{10,20}:[A-Za-z0-9_\-]{20,40}@[a-z0-9_\-]{1,60})"),
    _s("ADOBE_CLIENT_SECRET", r"\b(p8e-[A-Za-z0-9]{32})\b"),
    # --- generic assignments, judged by entropy
    _s("PASSWORD",
       r"(?i)((?:\b|_)[A-Za-z0-9_.\-]{0,40}(?:passw(?:or)?d|passwd|pwd|passphrase)"
       r"[A-Za-z0-9_.\-]{0,20}" + _ASSIGN + r"([^\s\"'`,;]{6,200}))",
       _assignment, priority=20, group=2, max_len=300, hint=r"(?i)(?:passw|pwd|passphrase)"),
    _s("PASSWORD",
       r"(?i)\b(?:my\s{1,3})?(?:password|passwd|passphrase)\s{1,3}(?:is|was)\s{1,3}[\"'`]?"
       r"([^\s\"'`,;]{6,100})", _prose_password, priority=20,
       hint=r"(?i)(?:password|passwd|passphrase)\s"),
    _s("GENERIC_SECRET",
       r"(?i)((?:\b|_)[A-Za-z0-9_.\-]{0,40}(?:secret|api[_\-]?key|apikey|access[_\-]?key"
       r"|auth[_\-]?key|private[_\-]?key|client[_\-]?secret|access[_\-]?token|auth[_\-]?token"
       r"|refresh[_\-]?token|token|credentials?|signing[_\-]?key|encryption[_\-]?key)"
       r"[A-Za-z0-9_.\-]{0,20}" + _ASSIGN + r"([^\s\"'`,;]{8,}))",
       _assignment, priority=20, group=2, max_len=300,
       hint=r"(?i)(?:secret|api[_\-]?key|apikey|access[_\-]?key|auth[_\-]?key|private[_\-]?key"
       r"|token|credential|signing[_\-]?key|encryption[_\-]?key)"),
)
