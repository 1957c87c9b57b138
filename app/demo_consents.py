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
