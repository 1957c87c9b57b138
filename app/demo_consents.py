"""The demo cities' consent texts, as a city would word them."""

#: What a resident agrees to before importing meter readings (energy feedback), version 1:
#: what is collected, why, for how long, and how to withdraw.
ENERGY_CONSENT = {
    "lyon": {
        "fr": (
            "**Conseils d'économie d'énergie à partir de vos relevés**\n\n"
            "Si vous acceptez, la Ville de Lyon enregistre les relevés de consommation des "
            "compteurs que vous ajoutez (électricité, chauffage urbain, gaz ou eau) : les "
            "valeurs par intervalle (15 minutes, heure ou jour) issues des fichiers que vous "
            "importez, ainsi que les informations facultatives sur votre logement (nombre de "
            "personnes, surface, type de logement et de chauffage).\n\n"
            "Ces données servent uniquement à vous donner un retour sur votre consommation et "
            "des conseils d'économie, et à vous comparer, de façon anonyme, à des foyers "
            "semblables. Elles ne sont ni vendues ni transmises à votre fournisseur. Le "
            "personnel de la Ville ne voit que des totaux par quartier, jamais pour moins de "
            "10 foyers.\n\n"
            "Les relevés détaillés sont conservés au plus 24 mois, puis regroupés en valeurs "
            "journalières ; tout est supprimé si vous quittez le programme.\n\n"
            "Vous pouvez retirer votre accord à tout moment dans l'application (Mon énergie → "
            "Consentement). **Retirer votre accord supprime définitivement tous vos relevés** "
            "et l'historique de vos importations."
        ),
        "en": (
            "**Energy-saving feedback from your meter readings**\n\n"
            "If you agree, the City of Lyon stores the consumption readings of the meters you "
            "add (electricity, district heat, gas or water): the values per interval (15 "
            "minutes, an hour or a day) from the files you import, and the optional facts "
            "about your household (people, floor area, type of dwelling and heating).\n\n"
            "They are used only to give you feedback on your consumption and tips to save "
            "energy, and to compare you, anonymously, with similar households. They are "
            "neither sold nor passed to your supplier. City staff see totals per district "
            "only, never for fewer than 10 households.\n\n"
            "Detailed readings are kept for at most 24 months, then summed up to daily "
            "values; everything is deleted when you leave the programme.\n\n"
            "You can withdraw your consent at any time in the app (My energy → Consent). "
            "**Withdrawing deletes all your readings** and the history of your imports, for "
            "good."
        ),
    },
    "vienna": {
        "de": (
            "**Energiespar-Feedback aus Ihren Zählerdaten**\n\n"
            "Wenn Sie zustimmen, speichert die Stadt Wien die Verbrauchswerte der Zähler, die "
            "Sie eintragen (Strom, Fernwärme, Gas oder Wasser): die Werte je Intervall (15 "
            "Minuten, Stunde oder Tag) aus den Dateien, die Sie hochladen, und freiwillige "
            "Angaben zu Ihrem Haushalt (Personen, Wohnfläche, Wohnungs- und Heizungsart).\n\n"
            "Die Daten dienen nur dazu, Ihnen Rückmeldung zu Ihrem Verbrauch und Spartipps zu "
            "geben und Sie anonym mit ähnlichen Haushalten zu vergleichen. Sie werden weder "
            "verkauft noch an Ihren Energieversorger weitergegeben. Mitarbeiterinnen und "
            "Mitarbeiter der Stadt sehen nur Summen je Bezirk, nie für weniger als 10 "
            "Haushalte.\n\n"
            "Detaillierte Messwerte werden höchstens 24 Monate aufbewahrt und danach zu "
            "Tageswerten zusammengefasst; wenn Sie das Programm verlassen, wird alles "
            "gelöscht.\n\n"
            "Sie können Ihre Zustimmung jederzeit in der App widerrufen (Meine Energie → "
            "Einwilligung). **Mit dem Widerruf werden alle Ihre Messwerte** und der Verlauf "
            "Ihrer Importe **endgültig gelöscht.**"
        ),
        "en": (
            "**Energy-saving feedback from your meter readings**\n\n"
            "If you agree, the City of Vienna stores the consumption readings of the meters "
            "you add (electricity, district heat, gas or water): the values per interval (15 "
            "minutes, an hour or a day) from the files you upload, and the optional facts "
            "about your household (people, floor area, type of dwelling and heating).\n\n"
            "They are used only to give you feedback on your consumption and tips to save "
            "energy, and to compare you, anonymously, with similar households. They are "
            "neither sold nor passed to your energy supplier. City staff see totals per "
            "district only, never for fewer than 10 households.\n\n"
            "Detailed readings are kept for at most 24 months, then summed up to daily "
            "values; everything is deleted when you leave the programme.\n\n"
            "You can withdraw your consent at any time in the app (My energy → Consent). "
            "**Withdrawing deletes all your readings** and the history of your uploads, for "
            "good."
        ),
    },
}

#: What a resident agrees to for research use of their contributions, version 1.
RESEARCH_CONSENT = {
    "lyon": {
        "fr": (
            "**Vos contributions au service de la recherche**\n\n"
            "Si vous acceptez, des chercheuses et chercheurs travaillant avec la Ville de Lyon "
            "peuvent étudier vos réponses aux questionnaires, vos idées, commentaires et "
            "soutiens, votre participation aux ateliers et, si vous avez ajouté des compteurs, "
            "votre consommation d'énergie.\n\n"
            "Ils ne reçoivent jamais votre nom, votre adresse e-mail ni votre identifiant : "
            "chaque export vous désigne par un pseudonyme qui lui est propre, les quartiers, "
            "dates et tailles de foyer sont regroupés pour qu'au moins 10 personnes partagent "
            "les mêmes, et les textes libres sont expurgés des noms, adresses et numéros. "
            "Chaque demande d'export, avec sa finalité, est consignée.\n\n"
            "Vous pouvez retirer votre accord à tout moment dans l'application : les exports "
            "suivants ne vous incluront plus."
        ),
        "en": (
            "**Your contributions for research**\n\n"
            "If you agree, researchers working with the City of Lyon may study your survey "
            "answers, your ideas, comments and supports, your taking part in workshops and, if "
            "you added meters, your energy use.\n\n"
            "They never receive your name, e-mail address or account: each export names you by "
            "a pseudonym of its own, districts, dates and household sizes are grouped so that "
            "at least 10 people share them, and free text is cleared of names, addresses and "
            "numbers. Every export request is recorded with its purpose.\n\n"
            "You can withdraw your consent at any time in the app: later exports will no "
            "longer include you."
        ),
    },
    "vienna": {
        "de": (
            "**Ihre Beiträge für die Forschung**\n\n"
            "Wenn Sie zustimmen, dürfen Forschende, die mit der Stadt Wien arbeiten, Ihre "
            "Antworten auf Umfragen, Ihre Ideen, Kommentare und Unterstützungen, Ihre Teilnahme "
            "an Workshops und, wenn Sie Zähler eingetragen haben, Ihren Energieverbrauch "
            "auswerten.\n\n"
            "Sie erhalten nie Ihren Namen, Ihre E-Mail-Adresse oder Ihr Konto: Jeder Export "
            "nennt Sie unter einem eigenen Pseudonym, Bezirke, Daten und Haushaltsgrößen werden "
            "so zusammengefasst, dass sie mindestens 10 Personen teilen, und freie Texte werden "
            "von Namen, Adressen und Nummern bereinigt. Jede Exportanfrage wird mit ihrem Zweck "
            "festgehalten.\n\n"
            "Sie können Ihre Zustimmung jederzeit in der App widerrufen: Spätere Exporte "
            "enthalten Sie dann nicht mehr."
        ),
        "en": (
            "**Your contributions for research**\n\n"
            "If you agree, researchers working with the City of Vienna may study your survey "
            "answers, your ideas, comments and supports, your taking part in workshops and, if "
            "you added meters, your energy use.\n\n"
            "They never receive your name, e-mail address or account: each export names you by "
            "a pseudonym of its own, districts, dates and household sizes are grouped so that "
            "at least 10 people share them, and free text is cleared of names, addresses and "
            "numbers. Every export request is recorded with its purpose.\n\n"
            "You can withdraw your consent at any time in the app: later exports will no "
            "longer include you."
        ),
    },
}
