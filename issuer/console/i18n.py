"""The console's two languages: English (the keys) and Malay. Pure.

Templates call ``t("English text")``; :func:`translate` returns the Malay text when the staff
member chose Malay and a translation exists, else the English key (so a missing translation
shows English, never a blank).
"""

from __future__ import annotations

from typing import Final

__all__ = ["LANGUAGES", "MALAY", "translate"]

LANGUAGES: Final = {"en": "English", "ms": "Bahasa Melayu"}

MALAY: Final[dict[str, str]] = {
    "Staff console": "Konsol kakitangan",
    "Dashboard": "Papan pemuka",
    "Awards": "Anugerah",
    "Award": "Anugerah",
    "Learners": "Pelajar",
    "Learner": "Pelajar",
    "Progress import": "Import kemajuan",
    "Catalogue": "Katalog",
    "Issuers and keys": "Penerbit dan kunci",
    "API tokens": "Token API",
    "Audit log": "Log audit",
    "Staff": "Kakitangan",
    "Sign in": "Log masuk",
    "Sign out": "Log keluar",
    "Signed in as": "Log masuk sebagai",
    "Language": "Bahasa",
    "Change": "Tukar",
    "Filter": "Tapis",
    "Search": "Cari",
    "Type": "Jenis",
    "Status": "Status",
    "Issuer": "Penerbit",
    "Issued": "Diterbitkan",
    "Achievement": "Pencapaian",
    "Date from": "Tarikh dari",
    "Date to": "Tarikh hingga",
    "Any": "Semua",
    "Next page": "Halaman seterusnya",
    "First page": "Halaman pertama",
    "No results.": "Tiada hasil.",
    "active": "aktif",
    "revoked": "dibatalkan",
    "suspended": "digantung",
    "Revoke": "Batalkan",
    "Suspend": "Gantung",
    "Unsuspend": "Tarik balik gantungan",
    "Re-issue": "Terbit semula",
    "Reason": "Sebab",
    "Confirm": "Sahkan",
    "Cancel": "Batal",
    "Status history": "Sejarah status",
    "Signed credential": "Kredensial bertandatangan",
    "Downloads": "Muat turun",
    "Facts": "Fakta",
    "Also affected": "Turut terjejas",
    "Awards issued per type and month": "Anugerah diterbitkan mengikut jenis dan bulan",
    "Recent revocations": "Pembatalan terkini",
    "Needs attention": "Perlu perhatian",
    "Mail waiting": "Mel menunggu",
    "Mail failed": "Mel gagal",
    "MMS re-issue candidates": "Calon terbitan semula MMS",
    "Keys": "Kunci",
    "Month": "Bulan",
    "Count": "Bilangan",
    "Total": "Jumlah",
    "Name": "Nama",
    "Student id": "ID pelajar",
    "E-mail": "E-mel",
    "Resend claim link": "Hantar semula pautan tuntutan",
    "Progress": "Kemajuan",
    "Missing": "Belum selesai",
    "Micro-credential": "Kredensial mikro",
    "Micro-credentials": "Kredensial mikro",
    "Programme": "Program",
    "Programmes": "Program",
    "Materials": "Bahan",
    "Assessments": "Penilaian",
    "Upload a CSV file": "Muat naik fail CSV",
    "or paste CSV text": "atau tampal teks CSV",
    "Preview": "Pratonton",
    "Import": "Import",
    "Rows": "Baris",
    "Bad rows": "Baris rosak",
    "Line": "Baris",
    "Code": "Kod",
    "Nothing has been stored yet.": "Belum ada yang disimpan.",
    "Import summary": "Ringkasan import",
    "Save": "Simpan",
    "Create": "Cipta",
    "Edit": "Sunting",
    "New micro-credential": "Kredensial mikro baharu",
    "New programme": "Program baharu",
    "Rotate key": "Putar kunci",
    "Scopes": "Skop",
    "Label": "Label",
    "Revoke token": "Batalkan token",
    "Create token": "Cipta token",
    "Actor": "Pelaku",
    "Action": "Tindakan",
    "Target": "Sasaran",
    "When": "Bila",
    "Role": "Peranan",
    "Add staff member": "Tambah kakitangan",
    "You are not allowed to do this.": "Anda tidak dibenarkan melakukan ini.",
    "Your session has expired. Please sign in again.": (
        "Sesi anda telah tamat. Sila log masuk semula."
    ),
    "Continue": "Teruskan",
    "Something went wrong": "Berlaku ralat",
    "Back": "Kembali",
    "Credits": "Kredit",
    "MQF level": "Tahap MQF",
    "Learning time (hours)": "Masa pembelajaran (jam)",
    "Delivery mode": "Mod penyampaian",
    "Category": "Kategori",
    "Components": "Komponen",
    "Skip to content": "Langkau ke kandungan",
}


def translate(text: str, locale: str) -> str:
    """``text`` in ``locale`` (``en`` or ``ms``); English when no translation exists."""
    if locale == "ms":
        return MALAY.get(text, text)
    return text
