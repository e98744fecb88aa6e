# ruff: noqa: RUF001 - the texts are Cyrillic and Arabic on purpose
"""The desk's first answer to a medical case, sent at once in the patient's language before any
person reads it: what to do in an emergency. Written for the languages the desk serves; any
other falls back to English."""

from __future__ import annotations

FALLBACK_LANGUAGE = "en"
# `{emergency}`: the emergency number (112 across the EU); `{clinic}`: the clinic's line
# sentence, or nothing when the number is not known.
EMERGENCY: dict[str, tuple[str, str]] = {
    "en": (
        "We have received your message and a member of our team will answer you shortly. "
        "If this is an emergency (chest pain, difficulty breathing, heavy bleeding, loss of "
        "consciousness), call {emergency} now: it is free and answers in the whole EU.{clinic}",
        " You can also call your clinic at {phone}.",
    ),
    "de": (
        "Wir haben Ihre Nachricht erhalten; jemand aus unserem Team antwortet Ihnen in Kürze. "
        "Wenn es ein Notfall ist (Schmerzen in der Brust, Atemnot, starke Blutung, "
        "Bewusstlosigkeit), rufen Sie sofort {emergency} an: kostenlos und in der ganzen EU "
        "erreichbar.{clinic}",
        " Sie können auch Ihre Klinik unter {phone} anrufen.",
    ),
    "uk": (
        "Ми отримали ваше повідомлення, і хтось із нашої команди незабаром вам відповість. "
        "Якщо це невідкладний стан (біль у грудях, утруднене дихання, сильна кровотеча, "
        "втрата свідомості), негайно телефонуйте {emergency}: це безкоштовно і діє в усьому "
        "ЄС.{clinic}",
        " Ви також можете зателефонувати до своєї клініки: {phone}.",
    ),
    "ru": (
        "Мы получили ваше сообщение, и сотрудник нашей команды скоро вам ответит. "
        "Если это экстренная ситуация (боль в груди, затруднённое дыхание, сильное "
        "кровотечение, потеря сознания), немедленно звоните {emergency}: это бесплатно и "
        "работает во всём ЕС.{clinic}",
        " Вы также можете позвонить в свою клинику: {phone}.",
    ),
    "ar": (
        "لقد تلقينا رسالتك وسيرد عليك أحد أعضاء فريقنا قريبًا. "
        "إذا كانت حالة طارئة (ألم في الصدر، صعوبة في التنفس، نزيف شديد، فقدان الوعي)، "
        "فاتصل الآن بالرقم {emergency}: الاتصال مجاني "
        "ويعمل في جميع أنحاء الاتحاد الأوروبي.{clinic}",
        " يمكنك أيضًا الاتصال بعيادتك على الرقم {phone}.",
    ),
}
LANGUAGES = tuple(EMERGENCY)


def emergency_answer(language: str, *, emergency_number: str, clinic_phone: str | None) -> str:
    text, clinic = EMERGENCY.get(language, EMERGENCY[FALLBACK_LANGUAGE])
    return text.format(
        emergency=emergency_number, clinic=clinic.format(phone=clinic_phone) if clinic_phone else ""
    )
