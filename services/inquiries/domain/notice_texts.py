# ruff: noqa: RUF001 - Ukrainian and Russian texts are written in Cyrillic on purpose
"""The texts of every published consent notice, per version and locale. A published version
never changes: tests/unit/inquiries/test_consent_notices.py holds the fingerprint of each, and a
new text is a new version added below (the old one stays, since consents point to it)."""

from __future__ import annotations

# purpose -> (title, text, recipients, retention), per locale.
Texts = dict[str, dict[str, tuple[str, str, tuple[str, ...], str]]]

V2026_12: Texts = {
    "en": {
        "health_data_processing": (
            "Processing of your health data to arrange your treatment",
            "We process the personal and health data you send us (your details, your "
            "description, diagnoses and records) to assess your inquiry and arrange your "
            "treatment and trip. Without this consent we cannot take your inquiry. You can "
            "withdraw it at any time; your open inquiry then stops.",
            ("Carebridge coordinators",),
            "Until your case is closed, then as long as the law requires; erased on request.",
        ),
        "review_by_staff": (
            "Review of your records by our staff",
            "Our coordinators and medical staff read your description, diagnoses and records "
            "to judge which treatment and clinic fit your case before anyone else is asked.",
            ("Carebridge coordinators", "Carebridge medical staff"),
            "As long as your case is open; erased with your case.",
        ),
        "forwarding_to_clinics": (
            "Forwarding your records to clinics",
            "To get a treatment offer we forward your description, diagnoses and records to "
            "the clinics that may treat you. Without this consent no clinic can make you an "
            "offer.",
            ("Partner clinics in Germany",),
            "The clinics keep your records under their own medical retention duties.",
        ),
        "partner_sharing": (
            "Sharing with transport, interpreter and courier partners",
            "To book your airport transfer, interpreter and the shipment of your medicine we "
            "share with the partner doing the job only what it needs: your name, phone and "
            "language, your flights and addresses, and for a shipment the medicines. Without "
            "this consent nothing is booked for you.",
            ("Transport companies", "Interpreters", "Couriers and pharmacies"),
            "Until the service is done; partners are asked to erase it when you ask us to.",
        ),
    },
    "de": {
        "health_data_processing": (
            "Verarbeitung Ihrer Gesundheitsdaten zur Organisation Ihrer Behandlung",
            "Wir verarbeiten die personenbezogenen und Gesundheitsdaten, die Sie uns senden "
            "(Ihre Angaben, Ihre Beschreibung, Diagnosen und Befunde), um Ihre Anfrage zu "
            "prüfen und Ihre Behandlung und Reise zu organisieren. Ohne diese Einwilligung "
            "können wir Ihre Anfrage nicht annehmen. Sie können sie jederzeit widerrufen; Ihre "
            "offene Anfrage endet dann.",
            ("Carebridge-Koordinatoren",),
            "Bis Ihr Fall abgeschlossen ist, danach so lange wie gesetzlich vorgeschrieben; "
            "auf Wunsch gelöscht.",
        ),
        "review_by_staff": (
            "Prüfung Ihrer Unterlagen durch unsere Mitarbeiter",
            "Unsere Koordinatoren und unser medizinisches Personal lesen Ihre Beschreibung, "
            "Diagnosen und Befunde, um zu beurteilen, welche Behandlung und Klinik passen, "
            "bevor jemand anderes gefragt wird.",
            ("Carebridge-Koordinatoren", "Medizinisches Personal von Carebridge"),
            "Solange Ihr Fall offen ist; mit Ihrem Fall gelöscht.",
        ),
        "forwarding_to_clinics": (
            "Weitergabe Ihrer Unterlagen an Kliniken",
            "Für ein Behandlungsangebot geben wir Ihre Beschreibung, Diagnosen und Befunde an "
            "die Kliniken weiter, die Sie behandeln könnten. Ohne diese Einwilligung kann Ihnen "
            "keine Klinik ein Angebot machen.",
            ("Partnerkliniken in Deutschland",),
            "Die Kliniken bewahren Ihre Unterlagen nach ihren ärztlichen Aufbewahrungspflichten "
            "auf.",
        ),
        "partner_sharing": (
            "Weitergabe an Transport-, Dolmetsch- und Kurierpartner",
            "Um Ihren Flughafentransfer, Ihren Dolmetscher und den Versand Ihrer Medikamente zu "
            "buchen, geben wir dem jeweiligen Partner nur, was er braucht: Ihren Namen, Ihre "
            "Telefonnummer und Sprache, Ihre Flüge und Adressen und für einen Versand die "
            "Medikamente. Ohne diese Einwilligung wird nichts für Sie gebucht.",
            ("Transportunternehmen", "Dolmetscher", "Kuriere und Apotheken"),
            "Bis die Leistung erbracht ist; auf Ihren Wunsch bitten wir die Partner um Löschung.",
        ),
    },
    "uk": {
        "health_data_processing": (
            "Обробка ваших даних про здоров'я для організації лікування",
            "Ми обробляємо персональні дані та дані про здоров'я, які ви нам надсилаєте (ваші "
            "дані, опис, діагнози та медичні документи), щоб розглянути ваш запит і "
            "організувати лікування та поїздку. Без цієї згоди ми не можемо прийняти запит. Ви "
            "можете відкликати її будь-коли; тоді ваш відкритий запит припиняється.",
            ("Координатори Carebridge",),
            "Доки ваша справа не закрита, потім стільки, скільки вимагає закон; видаляються на "
            "ваш запит.",
        ),
        "review_by_staff": (
            "Розгляд ваших документів нашими працівниками",
            "Наші координатори та медичний персонал читають ваш опис, діагнози та документи, "
            "щоб визначити, яке лікування і яка клініка вам підходять, перш ніж звертатися до "
            "будь-кого іншого.",
            ("Координатори Carebridge", "Медичний персонал Carebridge"),
            "Доки ваша справа відкрита; видаляються разом зі справою.",
        ),
        "forwarding_to_clinics": (
            "Передача ваших документів клінікам",
            "Щоб отримати пропозицію лікування, ми передаємо ваш опис, діагнози та документи "
            "клінікам, які можуть вас лікувати. Без цієї згоди жодна клініка не зможе зробити "
            "вам пропозицію.",
            ("Партнерські клініки в Німеччині",),
            "Клініки зберігають ваші документи відповідно до своїх медичних обов'язків.",
        ),
        "partner_sharing": (
            "Передача партнерам із трансферу, перекладу та доставки",
            "Щоб забронювати трансфер з аеропорту, перекладача та доставку ліків, ми передаємо "
            "партнеру лише те, що потрібно для його роботи: ваше ім'я, телефон і мову, рейси "
            "та адреси, а для доставки — ліки. Без цієї згоди нічого не бронюється.",
            ("Транспортні компанії", "Перекладачі", "Кур'єри та аптеки"),
            "До виконання послуги; на ваш запит ми просимо партнерів видалити дані.",
        ),
    },
    "ru": {
        "health_data_processing": (
            "Обработка ваших данных о здоровье для организации лечения",
            "Мы обрабатываем персональные данные и данные о здоровье, которые вы нам "
            "присылаете (ваши данные, описание, диагнозы и медицинские документы), чтобы "
            "рассмотреть ваш запрос и организовать лечение и поездку. Без этого согласия мы не "
            "можем принять запрос. Вы можете отозвать его в любое время; тогда ваш открытый "
            "запрос прекращается.",
            ("Координаторы Carebridge",),
            "Пока ваше дело не закрыто, затем столько, сколько требует закон; удаляются по "
            "вашему запросу.",
        ),
        "review_by_staff": (
            "Рассмотрение ваших документов нашими сотрудниками",
            "Наши координаторы и медицинский персонал читают ваше описание, диагнозы и "
            "документы, чтобы определить, какое лечение и какая клиника вам подходят, прежде "
            "чем обращаться к кому-либо ещё.",
            ("Координаторы Carebridge", "Медицинский персонал Carebridge"),
            "Пока ваше дело открыто; удаляются вместе с делом.",
        ),
        "forwarding_to_clinics": (
            "Передача ваших документов клиникам",
            "Чтобы получить предложение о лечении, мы передаём ваше описание, диагнозы и "
            "документы клиникам, которые могут вас лечить. Без этого согласия ни одна клиника "
            "не сможет сделать вам предложение.",
            ("Партнёрские клиники в Германии",),
            "Клиники хранят ваши документы в соответствии со своими медицинскими обязанностями.",
        ),
        "partner_sharing": (
            "Передача партнёрам по трансферу, переводу и доставке",
            "Чтобы забронировать трансфер из аэропорта, переводчика и доставку лекарств, мы "
            "передаём партнёру только то, что нужно для его работы: ваше имя, телефон и язык, "
            "рейсы и адреса, а для доставки — лекарства. Без этого согласия ничего не "
            "бронируется.",
            ("Транспортные компании", "Переводчики", "Курьеры и аптеки"),
            "До выполнения услуги; по вашему запросу мы просим партнёров удалить данные.",
        ),
    },
}
