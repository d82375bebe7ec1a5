"""Plain words for the human pages: Malaysia time, ages, and every failure in English and Malay.

Employers and universities reading the pages are mostly in Malaysia: every date and time is
shown in Malaysia time (``Asia/Kuala_Lumpur``) with its ``+08:00`` offset written out. Every
error a page can show has a plain sentence in both languages (:data:`PLAIN_ERRORS`); the
stable code is kept for the "details" disclosure only, for whoever has to report the problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "CHECK_SENTENCES_MS",
    "MALAYSIA",
    "PLAIN_ERRORS",
    "TRANSFER_REASONS_MS",
    "PlainMessage",
    "age_words",
    "credits_words",
    "malaysia_time",
    "plain_error",
]


def _malaysia() -> tzinfo:
    try:
        return ZoneInfo("Asia/Kuala_Lumpur")
    except ZoneInfoNotFoundError:
        # Without the tz database: Malaysia has kept UTC+08:00 without daylight saving since 1982.
        return timezone(timedelta(hours=8), "MYT")


MALAYSIA: tzinfo = _malaysia()


def malaysia_time(moment: datetime) -> str:
    """``2026-01-15 08:00 (UTC+08:00)``: ``moment`` in Malaysia time with the offset shown.

    A naive ``moment`` is taken as UTC.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(MALAYSIA)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} (UTC{offset[:3]}:{offset[3:]})"


def age_words(seconds: float) -> tuple[str, str]:
    """How long ago, in English and Malay: ``("3 h ago", "3 jam lalu")``."""
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole} s ago", f"{whole} saat lalu"
    if whole < 3600:
        return f"{whole // 60} min ago", f"{whole // 60} minit lalu"
    if whole < 86400:
        return f"{whole // 3600} h ago", f"{whole // 3600} jam lalu"
    return f"{whole // 86400} d ago", f"{whole // 86400} hari lalu"


@dataclass(frozen=True)
class PlainMessage:
    """What went wrong, for a person: a heading and a sentence in English and in Malay."""

    heading_en: str
    heading_ms: str
    en: str
    ms: str


_CANNOT = ("Could not check this credential", "Kredensial ini tidak dapat disemak")
_UNREADABLE = (
    "This is not a credential we can read",
    "Ini bukan kredensial yang boleh dibaca",
)

#: Error code -> plain message. Codes not listed read :data:`_GENERIC`.
PLAIN_ERRORS: dict[str, PlainMessage] = {
    "PARSING_ERROR": PlainMessage(
        *_UNREADABLE,
        "The text or file is not a credential: check you pasted the whole link or chose the "
        "file the issuer gave you.",
        "Teks atau fail ini bukan kredensial: pastikan anda menampal keseluruhan pautan atau "
        "memilih fail yang diberi oleh pengeluar.",
    ),
    "MALFORMED_VALUE_ERROR": PlainMessage(
        *_UNREADABLE,
        "Part of the input is not in the form a credential or link should have.",
        "Sebahagian input tidak dalam bentuk yang sepatutnya bagi kredensial atau pautan.",
    ),
    "UNSUPPORTED_INPUT": PlainMessage(
        *_UNREADABLE,
        "The file is neither a credential nor a presentation of credentials.",
        "Fail ini bukan kredensial dan bukan persembahan kredensial.",
    ),
    "JSON_TOO_DEEP": PlainMessage(
        *_UNREADABLE,
        "The file is nested too deeply to be a credential.",
        "Fail ini bersarang terlalu dalam untuk menjadi kredensial.",
    ),
    "REQUEST_TOO_LARGE": PlainMessage(
        *_UNREADABLE,
        "The file is too large to be a credential.",
        "Fail ini terlalu besar untuk menjadi kredensial.",
    ),
    "BAKED_CREDENTIAL_NOT_FOUND": PlainMessage(
        *_UNREADABLE,
        "The image does not carry a credential: upload the badge image the issuer sent.",
        "Imej ini tidak membawa kredensial: muat naik imej lencana yang dihantar oleh pengeluar.",
    ),
    "PDF_CREDENTIAL_NOT_FOUND": PlainMessage(
        *_UNREADABLE,
        "The PDF does not carry a credential: upload the certificate PDF the issuer sent.",
        "PDF ini tidak membawa kredensial: muat naik PDF sijil yang dihantar oleh pengeluar.",
    ),
    "CREDENTIAL_NOT_FOUND": PlainMessage(
        "Not found at the issuer",
        "Tidak ditemui di pihak pengeluar",
        "The issuer no longer serves a credential at this link. Ask the learner for the "
        "credential file or a new link.",
        "Pengeluar tidak lagi menyediakan kredensial di pautan ini. Minta fail kredensial atau "
        "pautan baharu daripada pelajar.",
    ),
    "FETCH_ERROR": PlainMessage(
        *_CANNOT,
        "The issuer's server did not answer properly. This does not mean the credential is "
        "forged: try again later.",
        "Pelayan pengeluar tidak menjawab dengan betul. Ini tidak bermakna kredensial ini "
        "palsu: cuba lagi kemudian.",
    ),
    "FETCH_TIMEOUT": PlainMessage(
        *_CANNOT,
        "The issuer's server took too long to answer. Try again later.",
        "Pelayan pengeluar mengambil masa terlalu lama untuk menjawab. Cuba lagi kemudian.",
    ),
    "FETCH_FORBIDDEN_ADDRESS": PlainMessage(
        *_CANNOT,
        "The link points to an address this verifier may not visit (only public https links).",
        "Pautan ini menghala ke alamat yang tidak boleh dilawati oleh pengesah ini (hanya "
        "pautan https awam).",
    ),
    "FETCH_TOO_LARGE": PlainMessage(
        *_CANNOT,
        "The link answered with something too large to be a credential.",
        "Pautan ini menjawab dengan sesuatu yang terlalu besar untuk menjadi kredensial.",
    ),
    "FETCH_UNEXPECTED_CONTENT_TYPE": PlainMessage(
        *_CANNOT,
        "The link answered with a web page or file that is not a credential.",
        "Pautan ini menjawab dengan halaman web atau fail yang bukan kredensial.",
    ),
    "NOT_FOUND": PlainMessage(
        "Page not found",
        "Halaman tidak ditemui",
        "There is no page at this address.",
        "Tiada halaman di alamat ini.",
    ),
    "LEARNER_MISMATCH": PlainMessage(
        "Credentials of more than one learner",
        "Kredensial lebih daripada seorang pelajar",
        "Credit transfer is decided for one learner at a time: upload only one learner's "
        "credentials.",
        "Pemindahan kredit diputuskan untuk seorang pelajar pada satu masa: muat naik "
        "kredensial seorang pelajar sahaja.",
    ),
    "POLICY_NOT_FOUND": PlainMessage(
        "Unknown transfer policy",
        "Polisi pemindahan tidak dikenali",
        "Choose one of the published credit-transfer policies.",
        "Pilih salah satu polisi pemindahan kredit yang diterbitkan.",
    ),
    "RATE_LIMITED": PlainMessage(
        "Too many checks",
        "Terlalu banyak semakan",
        "Too many checks from your network in a short time: wait a minute and try again.",
        "Terlalu banyak semakan dari rangkaian anda dalam masa singkat: tunggu seminit dan "
        "cuba lagi.",
    ),
}

_GENERIC = PlainMessage(
    *_CANNOT,
    "Something went wrong while checking. Try again; if it keeps happening, report the code "
    "under details.",
    "Sesuatu tidak kena semasa menyemak. Cuba lagi; jika berulang, laporkan kod di bawah butiran.",
)


def plain_error(code: str) -> PlainMessage:
    """The plain message for an error ``code`` (a generic one for codes without their own)."""
    if code in PLAIN_ERRORS:
        return PLAIN_ERRORS[code]
    if code.startswith("FETCH_"):
        return PLAIN_ERRORS["FETCH_ERROR"]
    return _GENERIC


#: (check, outcome) -> the Malay sentence beside the core's English one.
CHECK_SENTENCES_MS: dict[tuple[str, str], str] = {
    ("proof", "failed"): "Tandatangan tidak sah: kredensial ini telah diubah atau tidak "
    "ditandatangani oleh pengeluarnya.",
    ("proof", "unknown"): "Kunci pengeluar tidak dapat diambil, jadi tandatangan tidak dapat "
    "disemak.",
    ("issuer_binding", "failed"): "Kredensial ini tidak ditandatangani oleh pengeluar yang "
    "dinyatakan di dalamnya.",
    ("validity", "failed"): "Tarikh semakan berada di luar tempoh sah kredensial ini.",
    ("validity", "warning"): "Tempoh sah kredensial ini perlu diberi perhatian.",
    ("status", "failed"): "Pengeluar telah membatalkan atau menggantung kredensial ini.",
    ("status", "unknown"): "Senarai status pengeluar tidak dapat disemak, jadi pembatalan "
    "tidak dapat ditolak.",
    ("status", "warning"): "Status kredensial ini disemak dengan salinan terakhir yang diketahui.",
    ("schema", "failed"): "Format kredensial ini tidak betul.",
    ("schema", "warning"): "Format kredensial ini mempunyai perkara yang perlu diberi perhatian.",
    ("issuer_trust", "failed"): "Pengeluar ini tidak dikenali oleh pengesah ini.",
    ("issuer_trust", "warning"): "Pengeluar ini tidak dikenali oleh pengesah ini.",
    ("stacking", "failed"): "Mikro-kredensial yang disusun dalam pernyataan ini tidak sepadan "
    "dengan pernyataan.",
    ("stacking", "unknown"): "Mikro-kredensial yang disusun dalam pernyataan ini tidak dapat "
    "disemak.",
}


def credits_words(value: object) -> tuple[str, str]:
    """``("1 credit", "1 kredit")``, ``("2 credits", "2 kredit")``: English number agreement
    (Malay nouns do not change)."""
    text = str(value)
    try:
        one = float(text) == 1.0
    except ValueError:
        one = False
    return f"{text} credit" if one else f"{text} credits", f"{text} kredit"


#: Credit-transfer decision code -> the Malay reason beside the core's English one.
TRANSFER_REASONS_MS: dict[str, str] = {
    "ACCEPTED": "Diterima dan dikreditkan.",
    "EVALUATED_BY_COMPONENT": "Penyata ini dinilai melalui setiap kredensial di dalamnya.",
    "NOT_VERIFIED": "Kredensial ini gagal disahkan.",
    "ISSUER_NOT_TRUSTED": "Pengeluar kredensial ini tidak dikenali oleh pengesah ini.",
    "COC_NO_CREDIT": "Sijil Penyempurnaan tidak membawa kredit.",
    "NOT_A_MICROCREDENTIAL": "Ini bukan Sijil Pencapaian.",
    "ISSUER_NOT_ACCEPTED": "Program ini tidak menerima pengeluar ini.",
    "DUPLICATE": "Kredensial ini telah pun dinilai.",
    "MQF_LEVEL_UNKNOWN": "Tahap MQF tidak dinyatakan.",
    "MQF_LEVEL_TOO_LOW": "Tahap MQF di bawah minimum polisi.",
    "TOO_OLD": "Dianugerahkan lebih lama daripada yang dibenarkan oleh polisi.",
    "GRADE_MISSING": "Tiada gred atau markah dinyatakan.",
    "GRADE_TOO_LOW": "Gred di bawah minimum polisi.",
    "NO_COURSE_MAPPING": "Tiada kursus program ini yang sepadan.",
    "COURSE_ALREADY_CREDITED": "Kursus ini telah pun dikreditkan.",
    "CAP_REACHED": "Had pemindahan kredit telah dicapai.",
    "HOURS_UNKNOWN": "Jam pembelajaran notional tidak dinyatakan.",
    "TOO_FEW_HOURS": "Jam pembelajaran notional tidak mencukupi (40 jam bagi setiap kredit).",
    "LEARNER_MISMATCH": "Kredensial lebih daripada seorang pelajar.",
    "PRESENTATION_NOT_VERIFIED": "Persembahan ini tidak ditandatangani oleh pemegangnya.",
    "CONTAINER_NOT_VERIFIED": "Penyata yang mengandungi kredensial ini gagal disahkan.",
}
