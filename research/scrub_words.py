"""Common words that are also names: the scrubber keeps them when they stand alone."""

#: Words of the programme's languages (and of its residents' comments) that are also first
#: names, surnames or parts of nicknames: alone, they are kept. Compared without accents and
#: case; words under 4 letters are never matched alone anyway.
COMMON_WORDS = """
    email phone iban name user users admin test demo guest anonymous deleted participant
    resident residents neighbour neighbor moderator staff team info contact kontakt mail post
    that with have this from they will would there their what about which when make like time
    just know take people into year your good some could them than then look only come over
    think also back after work first well even want because these give most home house flat
    street road bike bikes cycle heating heat energy solar panel panels window windows water
    green park garden school city town power light summer winter spring autumn fall april june
    july august rose grace hope faith dawn holly lily daisy iris violet ruby pearl amber will
    mark bill rich dean frank grant hunter mason brown black white young king wood hill stone
    field bell cook baker long hall lane ward page love star moon jeans
    aber alle also auch dass denn diese dieser doch eine einen einer eines haben hatte heute
    hier immer jetzt kann keine mehr mich mein meine nach nicht noch oder schon sehr sein
    seine sich sind über unser unsere viel wenn werden wieder wird wurde zwei drei vier fünf
    sechs sieben acht neun zehn danke bitte gerne heizung wohnung haus fenster dach keller
    strom wasser sonne energie fahrrad radweg straße garten schule stadt bezirk sommer
    frühling herbst juni juli klein groß braun weiß schwarz fuchs wolf vogel stein berg wald
    busch koch bauer kaiser könig hahn ernst frei engel rosa hoffnung liebe glück
    autre autres avec dans pour plus sont mais tout tous toute toutes cette notre votre nous
    vous leur leurs elle elles être avoir fait faire bien très aussi comme chez depuis encore merci
    bonjour maison appartement immeuble chauffage chaudière fenêtre toit isolation énergie
    vélo piste parc jardin école ville quartier hiver printemps automne août avril juin
    juillet petit petite grand grande blanc blanche noir rouge brun pierre claire olive
    prune violette marguerite constance france soleil lune berger fontaine bonnet fleur
    para como pero esta este esto estos estas todo todos toda todas porque cuando donde
    desde hasta sobre tiene tienen hace hacer casa piso edificio calefacción ventana
    ventanas tejado techo energía bici bicicleta carril calle parque jardín escuela ciudad
    barrio invierno verano primavera otoño agosto abril junio julio gracias hola blanco
    blanca rubio moreno pilar dolores soledad mercedes amparo rocío consuelo esperanza gloria
    ángeles reyes santos cruz flores campos prado vega nieves montes delgado calvo bravo
    leal alegre sierra
    isto moito moita máis cando onde dende xanela xanelas tellado enerxía rúa xardín escola
    cidade inverno verán outono xuño xullo grazas branco branca noite lúa
    della delle degli dello anche sono questo questa questi queste dove perché molto molta
    tutto tutti tutta tutte però palazzo riscaldamento caldaia finestra finestre tetto
    energia bicicletta pista strada parco giardino città quartiere estate autunno aprile
    giugno luglio grazie ciao bianco bianca rosso rossa nero nera bruno bruna franco chiara
    chiaro sole luna stella aurora serena sereno grazia speranza gioia fiore felice vittoria
    pace marino santo santa
    като това тази този които която който защото когато където много само още може трябва
    имаме имам благодаря здравей къща апартамент блок сграда отопление парно прозорец
    прозорци покрив енергия велосипед колело алея улица парк градина училище град квартал
    зима лято пролет есен август април юни юли надежда вяра любов слава роза зора радост
    мила цвета калина злата мира добри добра добро роман
    який яка яке які тому коли також дуже можна треба маємо дякую привіт будинок квартира
    опалення котел вікно вікна енергія енергії велосипед велодоріжка вулиця парк сад школа
    місто район зима літо весна осінь серпень квітень червень липень надія віра любов слава
    злата радість мила калина роман лілія сонце зоря
"""
