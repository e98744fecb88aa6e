// Carebridge widget: <carebridge-inquiry> (a patient's inquiry), <carebridge-status> (the
// patient's timeline) and <carebridge-support> (the patient's support cases). One ES module,
// plain JavaScript, no framework, nothing loaded from a CDN. Served by the inquiries service at
// /widget/carebridge.js; embedding: docs/sites.md.
//
//   <script type="module" src="https://inquiries.example/widget/carebridge.js"></script>
//   <carebridge-inquiry key="cbp_…" content-api="https://content.example" lang="de"></carebridge-inquiry>
//   <carebridge-status key="cbp_…" lang="de" inquiry="…"></carebridge-status>
//   <carebridge-support key="cbp_…" lang="de" api="https://support.example" inquiry="…" case="…"></carebridge-support>
//
// Attributes: key (the site's publishable key), lang (en, de, uk, ru, ar), api (the service the
// element calls: by default where this file came from, the inquiries service; the support
// service's URL for <carebridge-support>), content-api (the content service, for the list of
// conditions), condition (a slug to preselect), source (how the inquiry is labelled; by default
// the page's host), novalidate (leave every check to the API), inquiry (the inquiry number to
// fill in), case (the support case to open). The access token is typed, never an attribute.

const ORIGIN = new URL(import.meta.url).origin;
const RTL = new Set(["ar"]);
const SERVICES = ["transfer", "interpreter", "medicine_shipment", "support"];
const SEXES = ["female", "male", "diverse", "unknown"];
// The API's own bounds (services/inquiries/domain/intake.py), so a patient learns of a problem
// before sending, in their language; the API checks again and its answer wins.
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const PHONE = /^\+[1-9][0-9]{6,14}$/;
const COUNTRY = /^[A-Z]{2}$/;
const CONTROL = /[\x00-\x1f\x7f]/;
const EARLIEST_BIRTH = "1900-01-01";
const FORMATS = { "patient.email": "e_email", "patient.phone": "e_phone", "patient.country": "e_country" };

const T = {
  en: {
    title: "Ask for treatment", more: "What this means", condition: "Condition", choose: "Please choose",
    full_name: "Full name", date_of_birth: "Date of birth", sex: "Sex",
    sex_female: "female", sex_male: "male", sex_diverse: "diverse", sex_unknown: "prefer not to say",
    country: "Country you live in (two letters, e.g. UA)", language: "Language we write to you in",
    email: "Email", phone: "Phone (optional, with country code, e.g. +380…)", sms: "Also tell me of each step by SMS",
    description: "What happened so far, in your words", dates: "When could you travel? (optional)",
    from: "From", to: "To", services: "What should we arrange?",
    service_transfer: "Airport transfer", service_interpreter: "Personal interpreter",
    service_medicine_shipment: "Medicine shipped home", service_support: "Support around the clock",
    consent: "Your consent", required: "required", recipients: "Who receives it", retention: "How long it is kept",
    send: "Send inquiry", sending: "Sending…", solving: "Protecting the form against spam…",
    e_required: "Please fill this in.", e_email: "Please enter an email address like name@example.com.",
    e_phone: "Please enter the number with +, country code and digits only.", e_country: "Please enter two capital letters, e.g. UA.",
    e_past: "This date must be in the past.", e_birth: "Please check the year.", e_before: "This is before the first date.",
    e_future: "This date is in the past.", e_long: "This is too long.", e_line: "Please write this on one line.",
    e_sms: "For SMS we need your phone number.", e_consent: "We can only arrange treatment with this consent.",
    problems: "{0} fields need your attention; they are marked below.", failed: "The inquiry could not be sent: {0}",
    offline: "The inquiry could not be sent. Please check your connection and try again.",
    done: "Your inquiry is on its way", number: "Inquiry number", token: "Access token",
    keep: "This token is shown only once. Keep it like a password: save it in a password manager or write it down, and share it with no one. With the inquiry number it shows you your inquiry's progress.",
    copy: "Copy number and token", copied: "Copied.",
    status_title: "Follow your inquiry", show: "Show my inquiry", status: "Status", timeline: "What happened",
    not_found: "No inquiry matches this number and token.", loading: "Loading…",
    sup_title: "Your support cases", sup_show: "Show my support", new_case: "Ask us for help", category: "What it is about",
    priority: "How urgent", message: "Your message", reply: "Your reply", send_reply: "Send reply", open_case: "Open case",
    case_n: "Support case {0}", no_case: "No case matches this inquiry number and token.",
    wait: "Too many tries. Please wait {0} seconds and try again.", net: "The support desk could not be reached. Please check your connection and try again.",
    sup_failed: "That did not work: {0}", sent: "Your message was sent.", closed: "This case is closed; please open a new one below.",
  },
  de: {
    title: "Behandlung anfragen", more: "Was das bedeutet", condition: "Erkrankung", choose: "Bitte wählen",
    full_name: "Vollständiger Name", date_of_birth: "Geburtsdatum", sex: "Geschlecht",
    sex_female: "weiblich", sex_male: "männlich", sex_diverse: "divers", sex_unknown: "keine Angabe",
    country: "Land, in dem Sie leben (zwei Buchstaben, z. B. UA)", language: "Sprache, in der wir Ihnen schreiben",
    email: "E-Mail", phone: "Telefon (optional, mit Ländervorwahl, z. B. +380…)", sms: "Über jeden Schritt auch per SMS informieren",
    description: "Was bisher geschah, in Ihren Worten", dates: "Wann könnten Sie reisen? (optional)",
    from: "Von", to: "Bis", services: "Was sollen wir organisieren?",
    service_transfer: "Flughafentransfer", service_interpreter: "Persönlicher Dolmetscher",
    service_medicine_shipment: "Medikamentenversand nach Hause", service_support: "Betreuung rund um die Uhr",
    consent: "Ihre Einwilligung", required: "erforderlich", recipients: "Wer sie erhält", retention: "Wie lange sie gespeichert werden",
    send: "Anfrage senden", sending: "Wird gesendet…", solving: "Formular wird gegen Spam geschützt…",
    e_required: "Bitte ausfüllen.", e_email: "Bitte eine E-Mail-Adresse wie name@beispiel.de eingeben.",
    e_phone: "Bitte die Nummer mit +, Ländervorwahl und nur Ziffern eingeben.", e_country: "Bitte zwei Großbuchstaben eingeben, z. B. UA.",
    e_past: "Dieses Datum muss in der Vergangenheit liegen.", e_birth: "Bitte das Jahr prüfen.", e_before: "Dieses Datum liegt vor dem ersten.",
    e_future: "Dieses Datum liegt in der Vergangenheit.", e_long: "Das ist zu lang.", e_line: "Bitte in einer Zeile schreiben.",
    e_sms: "Für SMS brauchen wir Ihre Telefonnummer.", e_consent: "Ohne diese Einwilligung können wir keine Behandlung organisieren.",
    problems: "{0} Felder brauchen Ihre Aufmerksamkeit; sie sind unten markiert.", failed: "Die Anfrage konnte nicht gesendet werden: {0}",
    offline: "Die Anfrage konnte nicht gesendet werden. Bitte Verbindung prüfen und erneut versuchen.",
    done: "Ihre Anfrage ist unterwegs", number: "Anfragenummer", token: "Zugangsschlüssel",
    keep: "Dieser Schlüssel wird nur einmal angezeigt. Bewahren Sie ihn wie ein Passwort auf: im Passwortmanager oder notiert, und geben Sie ihn niemandem. Mit der Anfragenummer zeigt er Ihnen den Stand Ihrer Anfrage.",
    copy: "Nummer und Schlüssel kopieren", copied: "Kopiert.",
    status_title: "Ihre Anfrage verfolgen", show: "Meine Anfrage anzeigen", status: "Stand", timeline: "Was geschah",
    not_found: "Keine Anfrage passt zu dieser Nummer und diesem Schlüssel.", loading: "Wird geladen…",
    sup_title: "Ihre Supportfälle", sup_show: "Meinen Support anzeigen", new_case: "Um Hilfe bitten", category: "Worum es geht",
    priority: "Wie dringend", message: "Ihre Nachricht", reply: "Ihre Antwort", send_reply: "Antwort senden", open_case: "Fall eröffnen",
    case_n: "Supportfall {0}", no_case: "Kein Fall passt zu dieser Anfragenummer und diesem Schlüssel.",
    wait: "Zu viele Versuche. Bitte {0} Sekunden warten und erneut versuchen.", net: "Der Support war nicht erreichbar. Bitte Verbindung prüfen und erneut versuchen.",
    sup_failed: "Das hat nicht geklappt: {0}", sent: "Ihre Nachricht wurde gesendet.", closed: "Dieser Fall ist geschlossen; bitte unten einen neuen eröffnen.",
  },
  uk: {
    title: "Запит на лікування", more: "Що це означає", condition: "Захворювання", choose: "Оберіть",
    full_name: "Повне ім'я", date_of_birth: "Дата народження", sex: "Стать",
    sex_female: "жіноча", sex_male: "чоловіча", sex_diverse: "інша", sex_unknown: "не вказувати",
    country: "Країна проживання (дві літери, напр. UA)", language: "Мова листування",
    email: "Електронна пошта", phone: "Телефон (необов'язково, з кодом країни, напр. +380…)", sms: "Повідомляти про кожен крок також SMS",
    description: "Що відбувалося досі, своїми словами", dates: "Коли ви могли б поїхати? (необов'язково)",
    from: "З", to: "До", services: "Що нам організувати?",
    service_transfer: "Трансфер з аеропорту", service_interpreter: "Особистий перекладач",
    service_medicine_shipment: "Доставка ліків додому", service_support: "Цілодобова підтримка",
    consent: "Ваша згода", required: "обов'язково", recipients: "Хто отримує", retention: "Скільки зберігається",
    send: "Надіслати запит", sending: "Надсилання…", solving: "Захист форми від спаму…",
    e_required: "Заповніть, будь ласка.", e_email: "Введіть адресу на кшталт name@example.com.",
    e_phone: "Введіть номер із +, кодом країни, лише цифри.", e_country: "Введіть дві великі літери, напр. UA.",
    e_past: "Дата має бути в минулому.", e_birth: "Перевірте рік.", e_before: "Ця дата раніша за першу.",
    e_future: "Ця дата вже минула.", e_long: "Задовго.", e_line: "Напишіть в один рядок.",
    e_sms: "Для SMS потрібен ваш номер телефону.", e_consent: "Без цієї згоди ми не можемо організувати лікування.",
    problems: "Полів, що потребують уваги: {0}; їх позначено нижче.", failed: "Не вдалося надіслати запит: {0}",
    offline: "Не вдалося надіслати запит. Перевірте з'єднання і спробуйте ще раз.",
    done: "Ваш запит надіслано", number: "Номер запиту", token: "Ключ доступу",
    keep: "Цей ключ показано лише один раз. Зберігайте його як пароль: у менеджері паролів або записаним, і нікому не передавайте. Разом із номером запиту він показує хід вашого запиту.",
    copy: "Копіювати номер і ключ", copied: "Скопійовано.",
    status_title: "Стежити за запитом", show: "Показати мій запит", status: "Стан", timeline: "Що відбулося",
    not_found: "Немає запиту з таким номером і ключем.", loading: "Завантаження…",
    sup_title: "Ваші звернення до підтримки", sup_show: "Показати мою підтримку", new_case: "Попросити допомоги", category: "Чого це стосується",
    priority: "Наскільки терміново", message: "Ваше повідомлення", reply: "Ваша відповідь", send_reply: "Надіслати відповідь", open_case: "Створити звернення",
    case_n: "Звернення {0}", no_case: "Немає звернення з таким номером запиту і ключем.",
    wait: "Забагато спроб. Зачекайте {0} с і спробуйте ще раз.", net: "Не вдалося зв'язатися з підтримкою. Перевірте з'єднання і спробуйте ще раз.",
    sup_failed: "Не вдалося: {0}", sent: "Ваше повідомлення надіслано.", closed: "Це звернення закрито; створіть нове нижче.",
  },
  ru: {
    title: "Запрос на лечение", more: "Что это значит", condition: "Заболевание", choose: "Выберите",
    full_name: "Полное имя", date_of_birth: "Дата рождения", sex: "Пол",
    sex_female: "женский", sex_male: "мужской", sex_diverse: "другой", sex_unknown: "не указывать",
    country: "Страна проживания (две буквы, напр. UA)", language: "Язык переписки",
    email: "Электронная почта", phone: "Телефон (необязательно, с кодом страны, напр. +380…)", sms: "Сообщать о каждом шаге также по SMS",
    description: "Что происходило до сих пор, своими словами", dates: "Когда вы могли бы поехать? (необязательно)",
    from: "С", to: "По", services: "Что нам организовать?",
    service_transfer: "Трансфер из аэропорта", service_interpreter: "Личный переводчик",
    service_medicine_shipment: "Доставка лекарств домой", service_support: "Круглосуточная поддержка",
    consent: "Ваше согласие", required: "обязательно", recipients: "Кто получает", retention: "Сколько хранится",
    send: "Отправить запрос", sending: "Отправка…", solving: "Защита формы от спама…",
    e_required: "Пожалуйста, заполните.", e_email: "Введите адрес вида name@example.com.",
    e_phone: "Введите номер с +, кодом страны, только цифры.", e_country: "Введите две заглавные буквы, напр. UA.",
    e_past: "Дата должна быть в прошлом.", e_birth: "Проверьте год.", e_before: "Эта дата раньше первой.",
    e_future: "Эта дата уже прошла.", e_long: "Слишком длинно.", e_line: "Напишите в одну строку.",
    e_sms: "Для SMS нужен ваш номер телефона.", e_consent: "Без этого согласия мы не можем организовать лечение.",
    problems: "Полей, требующих внимания: {0}; они отмечены ниже.", failed: "Не удалось отправить запрос: {0}",
    offline: "Не удалось отправить запрос. Проверьте соединение и попробуйте снова.",
    done: "Ваш запрос отправлен", number: "Номер запроса", token: "Ключ доступа",
    keep: "Этот ключ показан только один раз. Храните его как пароль: в менеджере паролей или записанным, и никому не передавайте. Вместе с номером запроса он показывает ход вашего запроса.",
    copy: "Копировать номер и ключ", copied: "Скопировано.",
    status_title: "Следить за запросом", show: "Показать мой запрос", status: "Состояние", timeline: "Что произошло",
    not_found: "Нет запроса с таким номером и ключом.", loading: "Загрузка…",
    sup_title: "Ваши обращения в поддержку", sup_show: "Показать мою поддержку", new_case: "Попросить помощи", category: "О чём речь",
    priority: "Насколько срочно", message: "Ваше сообщение", reply: "Ваш ответ", send_reply: "Отправить ответ", open_case: "Создать обращение",
    case_n: "Обращение {0}", no_case: "Нет обращения с таким номером запроса и ключом.",
    wait: "Слишком много попыток. Подождите {0} с и попробуйте снова.", net: "Не удалось связаться с поддержкой. Проверьте соединение и попробуйте снова.",
    sup_failed: "Не получилось: {0}", sent: "Ваше сообщение отправлено.", closed: "Это обращение закрыто; создайте новое ниже.",
  },
  ar: {
    title: "طلب علاج", more: "ما يعنيه ذلك", condition: "الحالة المرضية", choose: "يرجى الاختيار",
    full_name: "الاسم الكامل", date_of_birth: "تاريخ الميلاد", sex: "الجنس",
    sex_female: "أنثى", sex_male: "ذكر", sex_diverse: "آخر", sex_unknown: "أفضل عدم الذكر",
    country: "بلد الإقامة (حرفان، مثل AE)", language: "لغة المراسلة",
    email: "البريد الإلكتروني", phone: "الهاتف (اختياري، مع رمز الدولة، مثل +971…)", sms: "أبلغوني بكل خطوة برسالة نصية أيضًا",
    description: "ما حدث حتى الآن بكلماتك", dates: "متى يمكنك السفر؟ (اختياري)",
    from: "من", to: "إلى", services: "ماذا نرتب لك؟",
    service_transfer: "النقل من المطار", service_interpreter: "مترجم شخصي",
    service_medicine_shipment: "شحن الأدوية إلى المنزل", service_support: "دعم على مدار الساعة",
    consent: "موافقتك", required: "مطلوب", recipients: "من يتلقاها", retention: "مدة الاحتفاظ",
    send: "إرسال الطلب", sending: "جارٍ الإرسال…", solving: "حماية النموذج من الرسائل المزعجة…",
    e_required: "يرجى ملء هذا الحقل.", e_email: "يرجى إدخال بريد مثل name@example.com.",
    e_phone: "يرجى إدخال الرقم مع + ورمز الدولة وأرقام فقط.", e_country: "يرجى إدخال حرفين كبيرين، مثل AE.",
    e_past: "يجب أن يكون هذا التاريخ في الماضي.", e_birth: "يرجى التحقق من السنة.", e_before: "هذا التاريخ قبل التاريخ الأول.",
    e_future: "هذا التاريخ في الماضي.", e_long: "النص طويل جدًا.", e_line: "يرجى الكتابة في سطر واحد.",
    e_sms: "نحتاج رقم هاتفك للرسائل النصية.", e_consent: "لا يمكننا ترتيب العلاج دون هذه الموافقة.",
    problems: "عدد الحقول التي تحتاج إلى انتباهك: {0}؛ وهي مميزة أدناه.", failed: "تعذر إرسال الطلب: {0}",
    offline: "تعذر إرسال الطلب. يرجى التحقق من الاتصال والمحاولة مرة أخرى.",
    done: "تم إرسال طلبك", number: "رقم الطلب", token: "رمز الوصول",
    keep: "يظهر هذا الرمز مرة واحدة فقط. احفظه ككلمة مرور: في مدير كلمات المرور أو مكتوبًا، ولا تشاركه مع أحد. مع رقم الطلب يريك تقدم طلبك.",
    copy: "نسخ الرقم والرمز", copied: "تم النسخ.",
    status_title: "متابعة طلبك", show: "عرض طلبي", status: "الحالة", timeline: "ما حدث",
    not_found: "لا يوجد طلب بهذا الرقم والرمز.", loading: "جارٍ التحميل…",
    sup_title: "طلبات الدعم الخاصة بك", sup_show: "عرض الدعم الخاص بي", new_case: "اطلب المساعدة", category: "الموضوع",
    priority: "مدى الاستعجال", message: "رسالتك", reply: "ردك", send_reply: "إرسال الرد", open_case: "فتح طلب",
    case_n: "طلب الدعم {0}", no_case: "لا يوجد طلب دعم بهذا الرقم والرمز.",
    wait: "محاولات كثيرة. يرجى الانتظار {0} ثانية والمحاولة مرة أخرى.", net: "تعذر الوصول إلى فريق الدعم. يرجى التحقق من الاتصال والمحاولة مرة أخرى.",
    sup_failed: "لم ينجح ذلك: {0}", sent: "تم إرسال رسالتك.", closed: "هذا الطلب مغلق؛ يرجى فتح طلب جديد أدناه.",
  },
};

// Status and timeline words, by language: [en, de, uk, ru, ar].
const WORDS = {
  submitted: ["Inquiry received", "Anfrage eingegangen", "Запит отримано", "Запрос получен", "تم استلام الطلب"],
  in_review: ["In review", "In Prüfung", "На розгляді", "На рассмотрении", "قيد المراجعة"],
  records_requested: ["Records requested", "Unterlagen angefordert", "Запитано документи", "Запрошены документы", "طُلبت السجلات"],
  offer_sent: ["Offer sent", "Angebot gesendet", "Пропозицію надіслано", "Предложение отправлено", "أُرسل العرض"],
  offer_accepted: ["Offer accepted", "Angebot angenommen", "Пропозицію прийнято", "Предложение принято", "قُبل العرض"],
  offer_expired: ["Offer expired", "Angebot abgelaufen", "Пропозиція закінчилася", "Предложение истекло", "انتهت صلاحية العرض"],
  accepted: ["Accepted", "Angenommen", "Прийнято", "Принято", "مقبول"],
  confirmed: ["Confirmed", "Bestätigt", "Підтверджено", "Подтверждено", "مؤكد"],
  in_treatment: ["In treatment", "In Behandlung", "На лікуванні", "На лечении", "قيد العلاج"],
  discharged: ["Discharged", "Entlassen", "Виписано", "Выписан", "خرج من المستشفى"],
  completed: ["Completed", "Abgeschlossen", "Завершено", "Завершено", "مكتمل"],
  declined: ["Declined", "Abgelehnt", "Відхилено", "Отклонено", "مرفوض"],
  cancelled: ["Cancelled", "Storniert", "Скасовано", "Отменено", "ملغى"],
  expired: ["Expired", "Abgelaufen", "Закінчився", "Истёк", "منتهي"],
  status_changed: ["Status changed", "Stand geändert", "Стан змінено", "Состояние изменено", "تغيرت الحالة"],
  assigned: ["Coordinator assigned", "Koordinator zugewiesen", "Призначено координатора", "Назначен координатор", "عُيّن منسق"],
  booking: ["Booking updated", "Buchung aktualisiert", "Бронювання оновлено", "Бронирование обновлено", "تم تحديث الحجز"],
  access_token_reissued: ["New access token issued", "Neuer Zugangsschlüssel ausgestellt", "Видано новий ключ", "Выдан новый ключ", "صدر رمز وصول جديد"],
  open: ["Open", "Offen", "Відкрито", "Открыто", "مفتوح"],
  acknowledged: ["Being handled", "In Bearbeitung", "Опрацьовується", "В работе", "قيد المعالجة"],
  resolved: ["Resolved", "Gelöst", "Вирішено", "Решено", "تم الحل"],
  transfer: ["Transfer", "Transfer", "Трансфер", "Трансфер", "النقل"],
  interpreter: ["Interpreter", "Dolmetscher", "Перекладач", "Переводчик", "مترجم"],
  medicine: ["Medicine", "Medikamente", "Ліки", "Лекарства", "الأدوية"],
  medical: ["Medical question or emergency", "Medizinische Frage oder Notfall", "Медичне питання або невідкладний випадок", "Медицинский вопрос или экстренный случай", "سؤال طبي أو حالة طارئة"],
  billing: ["Billing", "Rechnung", "Рахунок", "Счёт", "الفواتير"],
  other: ["Something else", "Etwas anderes", "Інше", "Другое", "أمر آخر"],
  normal: ["Normal", "Normal", "Звичайно", "Обычно", "عادي"],
  urgent: ["Urgent", "Dringend", "Терміново", "Срочно", "عاجل"],
  patient: ["You", "Sie", "Ви", "Вы", "أنت"],
  agent: ["Support", "Support", "Підтримка", "Поддержка", "الدعم"],
  partner: ["Partner", "Partner", "Партнер", "Партнёр", "الشريك"],
  system: ["Automatic message", "Automatische Nachricht", "Автоматичне повідомлення", "Автоматическое сообщение", "رسالة تلقائية"],
};
const WORD_INDEX = { en: 0, de: 1, uk: 2, ru: 3, ar: 4 };

const STYLE = `
:host { display: block; font: inherit; color: inherit; --cb-accent: #0b5cad; --cb-error: #b00020; }
form, section { display: grid; gap: .9rem; max-width: 40rem; }
fieldset { border: 1px solid #c4c4c4; border-radius: .4rem; padding: .6rem .8rem; display: grid; gap: .5rem; }
label, legend { font-weight: 600; }
.field { display: grid; gap: .25rem; }
.check { display: flex; gap: .5rem; align-items: flex-start; font-weight: 400; }
input, select, textarea, button { font: inherit; padding: .45rem .55rem; border: 1px solid #6b6b6b; border-radius: .3rem; }
textarea { min-height: 6rem; }
input[type=checkbox] { margin-top: .3rem; }
[aria-invalid=true] { border-color: var(--cb-error); border-width: 2px; }
.error { color: var(--cb-error); font-weight: 600; }
.error:empty { display: none; }
button { background: var(--cb-accent); color: #fff; border: 0; cursor: pointer; justify-self: start; padding: .6rem 1.2rem; }
button:disabled { opacity: .6; cursor: progress; }
:focus-visible { outline: 3px solid #f5a623; outline-offset: 2px; }
.token { font-family: monospace; font-size: 1.05rem; word-break: break-all; background: #f3f3f3; padding: .4rem; }
.note { background: #fff7e0; border-inline-start: 4px solid #f5a623; padding: .5rem .8rem; }
details { font-weight: 400; }
ol { padding-inline-start: 1.2rem; }
.thread { list-style: none; padding: 0; display: grid; gap: .6rem; }
.thread li { border: 1px solid #c4c4c4; border-radius: .4rem; padding: .5rem .8rem; }
.thread [data-author=patient] { background: #eef4fb; }
.who { font-weight: 600; margin: 0; }
.body { white-space: pre-wrap; margin: .3rem 0 0; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const today = () => new Date().toISOString().slice(0, 10);
let serial = 0;

/** The language to speak: the element's `lang`, else the page's, else English. */
function languageOf(el) {
  const lang = (el.getAttribute("lang") || el.closest("[lang]")?.getAttribute("lang") || "en").slice(0, 2);
  return T[lang] ? lang : "en";
}

function translator(lang) {
  return (key, ...args) => (T[lang][key] ?? T.en[key]).replace(/\{(\d)\}/g, (_, i) => args[i]);
}

function word(lang, key) {
  return WORDS[key]?.[WORD_INDEX[lang]] ?? key.replaceAll("_", " ");
}

/** An RFC 9457 problem's body, or a stand-in when the answer is not one. */
async function problemOf(response) {
  try {
    return await response.json();
  } catch {
    return { status: response.status, detail: response.statusText };
  }
}

const hexBytes = (hex) => Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
const bytesHex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");

/** ALTCHA v2 (PBKDF2/SHA-256), as the `altcha` package checks it: the first counter whose key,
 * derived from nonce + counter (uint32, big-endian) and the salt, starts with the key prefix.
 * The answer is the payload of the Altcha header: the challenge as received, and the solution. */
async function solveChallenge(challenge) {
  const p = challenge.parameters;
  const hash = p.algorithm.replace("PBKDF2/", "");
  const nonce = hexBytes(p.nonce);
  const salt = hexBytes(p.salt);
  const prefix = p.keyPrefix.toLowerCase();
  const password = new Uint8Array(nonce.length + 4);
  password.set(nonce);
  const view = new DataView(password.buffer);
  for (let counter = 0; counter < 2 ** 32; counter++) {
    view.setUint32(nonce.length, counter);
    const key = await crypto.subtle.importKey("raw", password, "PBKDF2", false, ["deriveBits"]);
    const bits = await crypto.subtle.deriveBits(
      { name: "PBKDF2", hash, salt, iterations: p.cost }, key, (p.keyLength ?? 32) * 8);
    const derivedKey = bytesHex(bits);
    if (derivedKey.startsWith(prefix)) {
      return btoa(JSON.stringify({ challenge, solution: { counter, derivedKey } }));
    }
  }
  throw new Error("the challenge has no solution");
}

/** The inquiry number (filled in from the `inquiry` attribute) and the access token, typed. */
function accessFields(el) {
  const id = el.id_;
  return `<div class="field"><label for="${id}-id">${esc(el.t("number"))}</label>
      <input id="${id}-id" name="id" required autocomplete="off" spellcheck="false" dir="ltr" value="${esc(el.getAttribute("inquiry") ?? "")}"></div>
    <div class="field"><label for="${id}-token">${esc(el.t("token"))}</label>
      <input id="${id}-token" name="token" type="password" required autocomplete="off" dir="ltr"></div>`;
}

class CarebridgeElement extends HTMLElement {
  connectedCallback() {
    if (this.shadowRoot) return;
    this.lang_ = languageOf(this);
    this.t = translator(this.lang_);
    this.id_ = `cb${++serial}`;
    const root = this.attachShadow({ mode: "open" });
    root.innerHTML = `<style>${STYLE}</style><div dir="${RTL.has(this.lang_) ? "rtl" : "ltr"}" lang="${this.lang_}"></div>`;
    this.view = root.lastElementChild;
    this.render();
  }

  get api() {
    return (this.getAttribute("api") || ORIGIN).replace(/\/$/, "");
  }

  headers(extra = {}) {
    const key = this.getAttribute("key");
    return key ? { "X-API-Key": key, ...extra } : extra;
  }

  $(selector) {
    return this.shadowRoot.querySelector(selector);
  }
}

class CarebridgeInquiry extends CarebridgeElement {
  async render() {
    const t = this.t;
    const id = this.id_;
    const field = (name, label, control, hint = "") => `
      <div class="field">
        <label for="${id}-${name}">${esc(label)}</label>${hint}
        ${control.replace("<CONTROL", `id="${id}-${name}" name="${name}" aria-describedby="${id}-${name}-error"`)}
        <p class="error" id="${id}-${name}-error" data-error-for="${name}"></p>
      </div>`;
    const options = (values, label) =>
      values.map((v) => `<option value="${esc(v)}">${esc(label(v))}</option>`).join("");
    this.view.innerHTML = `
      <form novalidate aria-labelledby="${id}-title">
        <h2 id="${id}-title">${esc(t("title"))}</h2>
        <p class="error" role="alert" id="${id}-summary" tabindex="-1"></p>
        ${field("condition_slug", t("condition"), `<select <CONTROL required><option value="">${esc(t("choose"))}</option></select>`)}
        ${field("patient.full_name", t("full_name"), `<input <CONTROL autocomplete="name" required maxlength="200">`)}
        ${field("patient.date_of_birth", t("date_of_birth"), `<input <CONTROL type="date" autocomplete="bday" required min="${EARLIEST_BIRTH}">`)}
        ${field("patient.sex", t("sex"), `<select <CONTROL required><option value="">${esc(t("choose"))}</option>${options(SEXES, (s) => t(`sex_${s}`))}</select>`)}
        ${field("patient.country", t("country"), `<input <CONTROL autocomplete="country" required maxlength="2" autocapitalize="characters">`)}
        ${field("patient.language", t("language"), `<select <CONTROL>${options(Object.keys(T), (l) => new Intl.DisplayNames([l], { type: "language" }).of(l))}</select>`)}
        ${field("patient.email", t("email"), `<input <CONTROL type="email" autocomplete="email" required maxlength="254">`)}
        ${field("patient.phone", t("phone"), `<input <CONTROL type="tel" autocomplete="tel" dir="ltr">`)}
        <div class="field">
          <label class="check"><input type="checkbox" name="patient.channels" value="sms" aria-describedby="${id}-patient.channels-error"> ${esc(t("sms"))}</label>
          <p class="error" id="${id}-patient.channels-error" data-error-for="patient.channels"></p>
        </div>
        ${field("description", t("description"), `<textarea <CONTROL required maxlength="5000"></textarea>`)}
        <fieldset><legend>${esc(t("dates"))}</legend>
          ${field("preferred_dates.from", t("from"), `<input <CONTROL type="date" min="${today()}">`)}
          ${field("preferred_dates.to", t("to"), `<input <CONTROL type="date" min="${today()}">`)}
        </fieldset>
        <fieldset aria-describedby="${id}-services-error"><legend>${esc(t("services"))}</legend>
          ${SERVICES.map((s) => `<label class="check"><input type="checkbox" name="services" value="${s}"> ${esc(t(`service_${s}`))}</label>`).join("")}
          <p class="error" id="${id}-services-error" data-error-for="services"></p>
        </fieldset>
        <fieldset class="consent"><legend>${esc(t("consent"))}</legend><p>${esc(t("loading"))}</p></fieldset>
        <button type="submit">${esc(t("send"))}</button>
        <p class="sr" aria-live="polite" id="${id}-progress"></p>
      </form>`;
    this.form = this.$("form");
    this.form.elements["patient.language"].value = this.lang_;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    try {
      await Promise.all([this.loadConditions(), this.loadConsent()]);
    } catch {
      this.$(`#${id}-summary`).textContent = t("offline");
    }
  }

  async loadConditions() {
    const contentApi = this.getAttribute("content-api");
    const select = this.form.elements.condition_slug;
    const wanted = this.getAttribute("condition");
    if (!contentApi) {
      if (wanted) select.add(new Option(wanted, wanted, true, true));
      return;
    }
    const url = `${contentApi.replace(/\/$/, "")}/v1/conditions?limit=100`;
    // The nearest language the content has (a condition's title may be English only).
    const response = await fetch(url, { headers: this.headers({ "Accept-Language": `${this.lang_}, en;q=0.1` }) });
    if (!response.ok) return;
    for (const item of (await response.json()).items) {
      select.add(new Option(item.title ?? item.slug, item.slug, false, item.slug === wanted));
    }
  }

  /** The consent notice in the patient's language: one checkbox per purpose, never ticked for
   * them; its version goes with the submission, so the API knows which text they agreed to. */
  async loadConsent() {
    const box = this.$(".consent");
    // Accept-Language, so a language the notice lacks falls back to one it has.
    const headers = this.headers({ "Accept-Language": `${this.lang_}, en;q=0.1` });
    const response = await fetch(`${this.api}/v1/consent-notices`, { headers });
    const notice = response.ok ? await response.json() : null;
    if (!notice) {
      box.querySelector("p").textContent = this.t("failed", response.status);
      return;
    }
    this.notice = notice;
    const t = this.t;
    // The notice's own language (it may have fallen back), for screen readers' pronunciation.
    const lang = esc(notice.locale);
    box.querySelector("p").remove();
    for (const p of notice.purposes) {
      const name = `consent.${p.purpose}`;
      const errorId = `${this.id_}-${name}-error`;
      box.insertAdjacentHTML(
        "beforeend",
        `<div class="field">
          <label class="check"><input type="checkbox" name="${esc(name)}" ${p.required ? "required" : ""} aria-describedby="${esc(errorId)}">
            <span><span lang="${lang}">${esc(p.title)}</span>${p.required ? ` (${esc(t("required"))})` : ""}</span></label>
          <details><summary>${esc(t("more"))}<span class="sr">: ${esc(p.title)}</span></summary><p lang="${lang}">${esc(p.text)}</p>
            ${p.recipients?.length ? `<p>${esc(t("recipients"))}: <span lang="${lang}">${esc(p.recipients.join(", "))}</span></p>` : ""}
            ${p.retention ? `<p>${esc(t("retention"))}: <span lang="${lang}">${esc(p.retention)}</span></p>` : ""}</details>
          <p class="error" id="${esc(errorId)}" data-error-for="${esc(name)}"></p>
        </div>`,
      );
    }
  }

  value(name) {
    const el = this.form.elements[name];
    return el ? el.value.trim() : "";
  }

  /** The body the API takes (SubmitInquiry), from the form. */
  body() {
    const v = (n) => this.value(n);
    const patient = {
      full_name: v("patient.full_name"),
      date_of_birth: v("patient.date_of_birth"),
      sex: v("patient.sex"),
      country: v("patient.country").toUpperCase(),
      language: v("patient.language"),
      email: v("patient.email"),
      channels: this.form.elements["patient.channels"].checked ? ["email", "sms"] : ["email"],
    };
    if (v("patient.phone")) patient.phone = v("patient.phone").replace(/[\s()-]/g, "");
    const consent = { version: this.notice?.version ?? "" };
    for (const p of this.notice?.purposes ?? []) consent[p.purpose] = this.form.elements[`consent.${p.purpose}`].checked;
    const body = {
      patient,
      condition_slug: v("condition_slug"),
      description: v("description"),
      services: [...this.form.querySelectorAll("[name=services]:checked")].map((c) => c.value),
      consent,
      source: this.getAttribute("source") || location.host || "widget",
    };
    if (v("preferred_dates.from") || v("preferred_dates.to")) {
      body.preferred_dates = { from: v("preferred_dates.from"), to: v("preferred_dates.to") };
    }
    return body;
  }

  /** What the API would refuse, as [field, message] pairs (the same rules, said kindly). */
  problems(body) {
    const t = this.t;
    const found = [];
    const need = (field, value) => !value && found.push([field, t("e_required")]);
    const p = body.patient;
    need("condition_slug", body.condition_slug);
    need("patient.full_name", p.full_name);
    if (CONTROL.test(p.full_name)) found.push(["patient.full_name", t("e_line")]);
    need("patient.date_of_birth", p.date_of_birth);
    if (p.date_of_birth && p.date_of_birth >= today()) found.push(["patient.date_of_birth", t("e_past")]);
    else if (p.date_of_birth && p.date_of_birth < EARLIEST_BIRTH) found.push(["patient.date_of_birth", t("e_birth")]);
    need("patient.sex", p.sex);
    if (!COUNTRY.test(p.country)) found.push(["patient.country", p.country ? t("e_country") : t("e_required")]);
    if (!EMAIL.test(p.email)) found.push(["patient.email", p.email ? t("e_email") : t("e_required")]);
    if (p.phone && !PHONE.test(p.phone)) found.push(["patient.phone", t("e_phone")]);
    if (p.channels.includes("sms") && !p.phone) found.push(["patient.channels", t("e_sms")]);
    need("description", body.description);
    const dates = body.preferred_dates;
    if (dates) {
      need("preferred_dates.from", dates.from);
      need("preferred_dates.to", dates.to);
      if (dates.from && dates.from < today()) found.push(["preferred_dates.from", t("e_future")]);
      if (dates.from && dates.to && dates.to < dates.from) found.push(["preferred_dates.to", t("e_before")]);
    }
    for (const purpose of this.notice?.purposes ?? []) {
      if (purpose.required && !body.consent[purpose.purpose]) found.push([`consent.${purpose.purpose}`, t("e_consent")]);
    }
    return found;
  }

  /** Each problem beside its field (aria-invalid, described by its message), the count
   * announced, the first field focused; a problem of no field goes to the summary. */
  show(problems, summary) {
    for (const el of this.form.querySelectorAll("[data-error-for]")) el.textContent = "";
    for (const el of this.form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    const loose = [];
    let first = null;
    for (const [field, message] of problems) {
      const slot = this.form.querySelector(`[data-error-for="${CSS.escape(field)}"]`) ??
        this.form.querySelector(`[data-error-for="${CSS.escape(field.replace(/\[\d+\]$/, ""))}"]`);
      if (!slot) {
        loose.push(`${field}: ${message}`);
        continue;
      }
      slot.textContent = slot.textContent ? `${slot.textContent} ${message}` : message;
      const control = this.form.elements[slot.dataset.errorFor];
      const target = control instanceof RadioNodeList ? control[0] : control;
      target?.setAttribute?.("aria-invalid", "true");
      first ??= target ?? slot;
    }
    const box = this.$(`#${this.id_}-summary`);
    box.textContent = [summary, ...loose].filter(Boolean).join(" ");
    (first ?? box).focus?.();
  }

  async submit() {
    const t = this.t;
    const body = this.body();
    if (!this.hasAttribute("novalidate")) {
      const problems = this.problems(body);
      if (problems.length) {
        this.show(problems, t("problems", new Set(problems.map(([f]) => f)).size));
        return;
      }
    }
    const button = this.$("button[type=submit]");
    const progress = this.$(`#${this.id_}-progress`);
    button.disabled = true;
    try {
      // One key per filled-in form: a retry after a lost answer is the same inquiry.
      this.attempt ??= crypto.randomUUID();
      const headers = this.headers({ "Content-Type": "application/json", "Idempotency-Key": this.attempt });
      progress.textContent = t("solving");
      const proof = await this.proof();
      if (proof) headers[proof.header] = proof.payload;
      progress.textContent = button.textContent = t("sending");
      const response = await fetch(`${this.api}/v1/inquiries`, { method: "POST", headers, body: JSON.stringify(body) });
      if (response.status === 201) {
        this.done(await response.json());
        return;
      }
      const problem = await problemOf(response);
      if (response.status === 400 || response.status === 422) this.attempt = null;
      // A malformed field (400) is told in the patient's words where the widget knows the
      // format; a broken rule (422) as the API says it.
      const errors = (problem.errors ?? []).map((e) => [
        e.field,
        response.status === 400 && FORMATS[e.field] ? t(FORMATS[e.field]) : e.message,
      ]);
      this.show(errors, errors.length ? t("problems", errors.length) : t("failed", problem.detail ?? problem.title ?? response.status));
    } catch {
      this.show([], t("offline"));
    } finally {
      button.disabled = false;
      button.textContent = t("send");
      progress.textContent = "";
    }
  }

  /** The proof of work the API asks browsers for (ALTCHA), or null where it asks none. */
  async proof() {
    const response = await fetch(`${this.api}/v1/altcha/challenge`, { headers: this.headers() });
    if (response.status === 404) return null; // an API that asks for none
    if (!response.ok) throw new Error(`challenge: ${response.status}`);
    return { header: "Altcha", payload: await solveChallenge(await response.json()) };
  }

  /** The number and token, shown once; focus moves to them so a screen reader reads them. */
  done(answer) {
    const t = this.t;
    const id = this.id_;
    this.view.innerHTML = `
      <section aria-labelledby="${id}-done" class="done">
        <h2 id="${id}-done" tabindex="-1">${esc(t("done"))}</h2>
        <dl>
          <dt>${esc(t("number"))}</dt><dd class="token" data-inquiry-id>${esc(answer.id)}</dd>
          <dt>${esc(t("token"))}</dt><dd class="token" data-access-token>${esc(answer.access_token)}</dd>
        </dl>
        <p class="note">${esc(t("keep"))}</p>
        <button type="button">${esc(t("copy"))}</button>
        <p aria-live="polite"></p>
      </section>`;
    this.$("button").addEventListener("click", async () => {
      await navigator.clipboard.writeText(`${t("number")}: ${answer.id}\n${t("token")}: ${answer.access_token}`);
      this.$("[aria-live]").textContent = t("copied");
    });
    this.$("h2").focus();
    // The page learns that an inquiry was sent and its number, never the token.
    this.dispatchEvent(new CustomEvent("carebridge-submitted", { bubbles: true, composed: true, detail: { id: answer.id, status: answer.status } }));
  }
}

class CarebridgeStatus extends CarebridgeElement {
  render() {
    const t = this.t;
    const id = this.id_;
    this.view.innerHTML = `
      <form aria-labelledby="${id}-title">
        <h2 id="${id}-title">${esc(t("status_title"))}</h2>
        ${accessFields(this)}
        <button type="submit">${esc(t("show"))}</button>
        <p class="error" role="alert"></p>
      </form>
      <section aria-live="polite" class="case"></section>`;
    this.$("form").addEventListener("submit", (event) => {
      event.preventDefault();
      const form = event.target.elements;
      this.load(form.id.value.trim(), form.token.value.trim());
    });
  }

  async load(inquiryId, token) {
    const t = this.t;
    const alert = this.$("[role=alert]");
    const out = this.$(".case");
    alert.textContent = "";
    out.textContent = t("loading");
    let response;
    try {
      response = await fetch(`${this.api}/v1/inquiries/${encodeURIComponent(inquiryId)}`, {
        headers: this.headers({ Authorization: `Bearer ${token}` }),
      });
    } catch {
      out.textContent = "";
      alert.textContent = t("offline");
      return;
    }
    if (!response.ok) {
      out.textContent = "";
      const problem = await problemOf(response);
      alert.textContent = [401, 404, 400].includes(response.status) ? t("not_found") : t("failed", problem.detail ?? response.status);
      return;
    }
    const view = await response.json();
    const when = new Intl.DateTimeFormat(this.lang_, { dateStyle: "medium", timeStyle: "short" });
    const entry = (e) => {
      const what = e.kind === "status_changed" && e.detail?.to ? word(this.lang_, e.detail.to) : word(this.lang_, e.kind);
      return `<li><time datetime="${esc(e.at)}">${esc(when.format(new Date(e.at)))}</time>: ${esc(what)}</li>`;
    };
    out.innerHTML = `
      <h3>${esc(t("status"))}: <span data-status="${esc(view.status)}">${esc(word(this.lang_, view.status))}</span></h3>
      <h4>${esc(t("timeline"))}</h4>
      <ol class="timeline">${view.timeline.map(entry).join("")}</ol>`;
  }
}

/** A patient's support cases: with the inquiry number and the access token, the case named by
 * `case` (its thread, its status, a reply), and a form to open a new one. */
class CarebridgeSupport extends CarebridgeElement {
  render() {
    const t = this.t;
    const id = this.id_;
    const choice = (name, values) => `<div class="field"><label for="${id}-${name}">${esc(t(name))}</label>
      <select id="${id}-${name}" name="${name}">${values.map((v) => `<option value="${v}">${esc(word(this.lang_, v))}</option>`).join("")}</select></div>`;
    this.view.innerHTML = `
      <form class="access" aria-labelledby="${id}-title">
        <h2 id="${id}-title">${esc(t("sup_title"))}</h2>
        ${accessFields(this)}
        <button type="submit">${esc(t("sup_show"))}</button>
      </form>
      <p class="error" role="alert"></p>
      <section class="case" aria-live="polite"></section>
      <form class="new" aria-labelledby="${id}-new" hidden>
        <h3 id="${id}-new">${esc(t("new_case"))}</h3>
        ${choice("category", ["transfer", "interpreter", "medicine", "medical", "billing", "other"])}
        ${choice("priority", ["normal", "urgent"])}
        <div class="field"><label for="${id}-message">${esc(t("message"))}</label>
          <textarea id="${id}-message" name="message" required maxlength="4000"></textarea></div>
        <button type="submit">${esc(t("open_case"))}</button>
      </form>`;
    this.caseId = this.getAttribute("case");
    this.$(".access").addEventListener("submit", (event) => {
      event.preventDefault();
      const form = event.target.elements;
      this.inquiry = form.id.value.trim();
      this.token = form.token.value.trim();
      this.$(".new").hidden = false;
      if (this.caseId) this.load();
    });
    this.$(".new").addEventListener("submit", (event) => {
      event.preventDefault();
      this.open(event.target);
    });
  }

  /** A call with the patient's token; null after saying plainly what went wrong. */
  async call(path, body, missing = "no_case", key) {
    const t = this.t;
    const alert = this.$("[role=alert]");
    alert.textContent = "";
    const headers = this.headers({ Authorization: `Bearer ${this.token}` });
    if (body) headers["Content-Type"] = "application/json";
    if (key) headers["Idempotency-Key"] = key;
    let response;
    try {
      response = await fetch(`${this.api}/v1/support/cases${path}`, body ? { method: "POST", headers, body: JSON.stringify(body) } : { headers });
    } catch {
      alert.textContent = t("net");
      return null;
    }
    if (response.ok) return response;
    const problem = await problemOf(response);
    const status = response.status;
    const unknown = [401, 404].includes(status) || (problem.errors ?? []).some((e) => e.field === "inquiry_id");
    alert.textContent = unknown ? t(missing)
      : status === 429 ? t("wait", response.headers.get("Retry-After") ?? 60)
      : status === 409 ? t("closed")
      : t("sup_failed", [problem.detail ?? status, ...(problem.errors ?? []).map((e) => e.message)].join(" "));
    return null;
  }

  async load(announce = "") {
    const out = this.$(".case");
    out.textContent = this.t("loading");
    const response = await this.call(`/${encodeURIComponent(this.caseId)}`);
    if (!response) {
      out.textContent = "";
      return;
    }
    this.show(await response.json(), announce);
  }

  show(view, announce) {
    const t = this.t;
    const lang = this.lang_;
    const id = this.id_;
    const when = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
    // Names and messages keep their own direction inside a right-to-left page.
    const who = (m) => esc(word(lang, m.author)) + (m.author === "agent" && m.author_name ? `: <bdi>${esc(m.author_name)}</bdi>` : "");
    const messages = [...view.messages].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    const out = this.$(".case");
    out.innerHTML = `
      <h3 tabindex="-1">${esc(t("case_n", view.id.slice(0, 8)))}</h3>
      <p>${esc(t("status"))}: <strong data-case-status="${esc(view.status)}">${esc(word(lang, view.status))}</strong>,
        ${esc(word(lang, view.category))}, ${esc(word(lang, view.priority))}</p>
      <ol class="thread">${messages.map((m) => `<li data-author="${esc(m.author)}"><p class="who">${who(m)},
        <time datetime="${esc(m.at)}">${esc(when.format(new Date(m.at)))}</time></p><p class="body" dir="auto">${esc(m.body)}</p></li>`).join("")}</ol>
      ${view.status === "resolved" ? "" : `<form class="reply"><div class="field"><label for="${id}-reply">${esc(t("reply"))}</label>
        <textarea id="${id}-reply" name="message" required maxlength="4000"></textarea></div>
        <button type="submit">${esc(t("send_reply"))}</button></form>`}
      <p class="sr">${esc(announce)}</p>`;
    out.querySelector(".reply")?.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = event.target.querySelector("button");
      button.disabled = true;
      const sent = await this.call(`/${view.id}/messages`, { message: event.target.elements.message.value.trim() });
      button.disabled = false;
      if (sent) this.load(t("sent"));
    });
  }

  async open(form) {
    const f = form.elements;
    const button = form.querySelector("button");
    button.disabled = true;
    // One key per filled-in form: a retry after a lost answer is the same case.
    this.attempt ??= crypto.randomUUID();
    const body = { inquiry_id: this.inquiry, category: f.category.value, priority: f.priority.value, language: this.lang_, message: f.message.value.trim() };
    const response = await this.call("", body, "not_found", this.attempt);
    button.disabled = false;
    if (!response) return;
    this.attempt = null;
    form.reset();
    this.caseId = (await response.json()).id;
    // The page learns the case's number (to put it in its URL), never the token.
    this.dispatchEvent(new CustomEvent("carebridge-case-opened", { bubbles: true, composed: true, detail: { id: this.caseId } }));
    await this.load(this.t("sent"));
    this.$(".case h3").focus();
  }
}

customElements.get("carebridge-inquiry") || customElements.define("carebridge-inquiry", CarebridgeInquiry);
customElements.get("carebridge-status") || customElements.define("carebridge-status", CarebridgeStatus);
customElements.get("carebridge-support") || customElements.define("carebridge-support", CarebridgeSupport);
